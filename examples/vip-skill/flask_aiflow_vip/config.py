"""``AIFLOW_VIP``: the callers to put through, and where to."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from flask_aiflow import Transfer
from flask_aiflow.skills.config import KeyPath, build_transfer
from flask_aiflow.skills.models import ConfigModel, PhoneNumber, TransferConfig

CONFIG_KEY = "AIFLOW_VIP"


class VipConfig(ConfigModel):
    """The ``AIFLOW_VIP`` mapping."""

    #: Callers (``from_phone_number``, E.164) to put through.
    numbers: tuple[PhoneNumber, ...]
    #: Where to: ``{"target", "caller_id_name"?, "caller_id_number"?}`` (both default to the target).
    transfer: TransferConfig


@dataclass(frozen=True, slots=True)
class VipSettings:
    numbers: frozenset[str]
    transfer: Transfer


def build(config: VipConfig, app: Flask) -> VipSettings:
    transfer = build_transfer(config.transfer, KeyPath(CONFIG_KEY) / "transfer", default_name=config.transfer.target)
    return VipSettings(frozenset(config.numbers), transfer)
