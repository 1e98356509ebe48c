"""Development and test tools: mounted by `web.create_app` in demo and test mode only, never in production."""
