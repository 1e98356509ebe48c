"""Every message that is not a reply: the transactional outbox, broadcasts fanned out into it,
and the worker that sends it to LINE with fixed retry keys."""
