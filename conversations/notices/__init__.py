"""Messages pushed through the outbox rather than given in reply: what the clock tells people
of their premium registration, what staff hear of a request, what a person hears of a staff
decision or of a verification finished in the browser. Builders, and the few functions that
push them in the caller's transaction, so the change and its message commit together.

The clock's "keep your registration?" is the first question of a dialogue, so it stays with the
steps that answer it (conversations/keep_registration/messages.py).
"""
