"""Partner-app tokens in the API: the AppToken type, Corp.appTokens, create and revoke."""
