"""The reseller's product catalogue (billing/products).

Families carry the upsell ladders (tier 1 -> 2 -> 3 inside a family) and the cross-sell
moves (buying into another family). Subscription families are billed monthly
(office_suite) or annually (maintenance, backup); list prices of subscriptions are per
seat (or plan) per month.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    family: str
    tier: int
    list_price: int
    margin: float
    billing: str  # once, monthly, annual


PRODUCTS: tuple[Product, ...] = (
    Product("PC-STD-01", "スタンダードPC", "pc", 1, 128_000, 0.12, "once"),
    Product("PC-BIZ-02", "ビジネスPC", "pc", 2, 178_000, 0.15, "once"),
    Product("PC-PRO-03", "プロ ワークステーション", "pc", 3, 348_000, 0.19, "once"),
    Product("MON-24-01", "24型モニター", "monitor", 1, 32_000, 0.22, "once"),
    Product("MON-27-02", "27型 4Kモニター", "monitor", 2, 58_000, 0.24, "once"),
    Product("PRN-A4-01", "A4 複合機", "printer", 1, 98_000, 0.25, "once"),
    Product("PRN-A3-02", "A3 カラー複合機", "printer", 2, 420_000, 0.28, "once"),
    Product("SEC-BAS-01", "情報セキュリティ研修 ベーシック", "security_training", 1, 15_000, 0.55, "once"),
    Product("SEC-ADV-02", "情報セキュリティ研修 アドバンス", "security_training", 2, 38_000, 0.60, "once"),
    Product("MNT-STD-01", "PC保守 スタンダード", "maintenance", 1, 1_200, 0.45, "annual"),
    Product("MNT-PRM-02", "PC保守 プレミアム(翌営業日交換)", "maintenance", 2, 2_400, 0.48, "annual"),
    Product("OFS-BAS-01", "オフィススイート Basic", "office_suite", 1, 750, 0.18, "monthly"),
    Product("OFS-STD-02", "オフィススイート Standard", "office_suite", 2, 1_360, 0.18, "monthly"),
    Product("OFS-PRE-03", "オフィススイート Premium", "office_suite", 3, 2_390, 0.20, "monthly"),
    Product("BKP-500-01", "クラウドバックアップ 500GB", "backup", 1, 6_000, 0.50, "annual"),
    Product("BKP-2TB-02", "クラウドバックアップ 2TB", "backup", 2, 18_000, 0.52, "annual"),
)

ONE_OFF_FAMILIES = ("pc", "monitor", "printer", "security_training")
SUB_FAMILIES = ("maintenance", "office_suite", "backup")
FAMILIES = ONE_OFF_FAMILIES + SUB_FAMILIES

CODES = np.array([p.code for p in PRODUCTS], dtype=object)
PRICE = np.array([p.list_price for p in PRODUCTS], dtype=np.int64)
MARGIN = np.array([p.margin for p in PRODUCTS])


def product_index(family: str, tier: int) -> int:
    """Position in PRODUCTS of a family's tier (tiers are contiguous from 1)."""
    for i, p in enumerate(PRODUCTS):
        if p.family == family and p.tier == tier:
            return i
    raise KeyError((family, tier))


def max_tier(family: str) -> int:
    return max(p.tier for p in PRODUCTS if p.family == family)


def tier_table() -> np.ndarray:
    """[family index, tier] -> product index (-1 where the tier does not exist)."""
    table = np.full((len(FAMILIES), 4), -1, dtype=np.int64)
    for i, p in enumerate(PRODUCTS):
        table[FAMILIES.index(p.family), p.tier] = i
    return table


def products_table() -> pa.Table:
    """billing/products with canonical column names and types."""
    return pa.table({
        "product_code": pa.array([p.code for p in PRODUCTS], pa.string()),
        "product_name": pa.array([p.name for p in PRODUCTS], pa.string()),
        "product_family": pa.array([p.family for p in PRODUCTS], pa.string()),
        "tier_rank": pa.array([p.tier for p in PRODUCTS], pa.int64()),
        "list_price_jpy": pa.array([p.list_price for p in PRODUCTS], pa.int64()),
        "gross_margin_rate": pa.array([p.margin for p in PRODUCTS], pa.float64()),
        "is_subscription": pa.array([p.billing != "once" for p in PRODUCTS], pa.bool_()),
    })
