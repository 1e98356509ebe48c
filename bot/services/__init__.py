"""The database side of the rules: queries and changes within the caller's transaction.

Services decide with `bot.domain` and return data (rows, outcomes, figures); they never build
a message for a person — that is `conversations/`."""
