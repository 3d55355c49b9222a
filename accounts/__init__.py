"""The city's accounts: several per channel (a main account, transport, districts), each with its own credentials.

`load_accounts(settings)` reads the accounts file (CITYDESK_ACCOUNTS_FILE, YAML); without one, each channel has one
account from today's settings, named after its channel ("telegram", "x", "web"). Credentials are read from the
environment variables the file names (or the .env file), never written in the file itself.
"""

from accounts.conversations import account_suffix_of, conversation_id_for, platform_conversation_of
from accounts.loader import (
    AccountsError,
    accounts_of,
    broadcast_accounts,
    default_account,
    find_account,
    load_accounts,
    resolve_account,
)
from accounts.model import CREDENTIALS, Account, Channel

__all__ = ["CREDENTIALS", "Account", "AccountsError", "Channel", "account_suffix_of", "accounts_of",
           "broadcast_accounts", "conversation_id_for", "default_account", "find_account", "load_accounts",
           "platform_conversation_of", "resolve_account"]
