"""X/Twitter connector: tweepy 4 API v2 client, normaliser, since_id poller, thread/DM sender."""
