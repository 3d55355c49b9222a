"""The Telegram connector: python-telegram-bot 22, long polling or a webhook, on the shared pipeline."""
