"""The verification pages (`/identity/…`): consent, the provider's callback, the result, LIFF."""
