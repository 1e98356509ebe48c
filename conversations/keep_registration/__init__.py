"""Keeping basic registrations when the inactivity prompt asks (R8)."""

from conversations.engine import Conversation
from conversations.keep_registration import steps
from conversations.keep_registration.states import KeepRegistration

KEEP_REGISTRATION = Conversation(name="keep", postbacks={KeepRegistration: steps.keep})
