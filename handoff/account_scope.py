"""What belongs to one of the city's accounts, as SQL conditions: its cases (their `account` column) and its
conversations (ids ending "@<account>"). The channel's default account also owns what came before accounts
(account NULL, conversation ids without "@")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from accounts import Account, default_account, find_account
from accounts.conversations import CHANNEL_PREFIXES, SEPARATOR
from handoff.models import Case


@dataclass(frozen=True)
class AccountScope:
    name: str
    channel: str
    default: bool  # the channel's default account

    @classmethod
    def of(cls, accounts: Sequence[Account], name: str) -> AccountScope:
        """The scope of the account named `name`; KeyError names the known ones."""
        account = find_account(accounts, name)
        return cls(name=account.name, channel=account.channel.value,
                   default=default_account(accounts, account.channel) == account)

    def cases(self) -> ColumnElement[bool]:
        """Cases written to this account."""
        own = Case.account == self.name
        if not self.default:
            return own
        return or_(own, and_(Case.account.is_(None), Case.channel == self.channel))

    def conversations(self, conversation_id: Any) -> ColumnElement[bool]:
        """Rows whose `conversation_id` column is one of this account's conversations."""
        on_channel = conversation_id.startswith(f"{CHANNEL_PREFIXES[self.channel]}-", autoescape=True)
        own = conversation_id.endswith(f"{SEPARATOR}{self.name}", autoescape=True)
        if not self.default:
            return and_(on_channel, own)
        return and_(on_channel, or_(own, ~conversation_id.contains(SEPARATOR, autoescape=True)))
