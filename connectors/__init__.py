"""Channel connectors (Telegram, X, web chat) and the one inbound pipeline they share."""
