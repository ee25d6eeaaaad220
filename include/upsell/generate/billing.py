"""billing/invoices: a month-by-month simulation of what each account buys.

State carried from month to month per account: the tier it owns in each one-off family
(pc, monitor, printer, security_training) and whether it has bought at all. Each month
every active account places Poisson(rate x season) orders (March and April peak); an
order's main line may move up a tier (upsell) or open a new family (cross-sell), extra
lines bundle accessories. Won campaign deals are injected as orders of their target
family, subscription billing and a few credit notes join the same monthly invoices.
One month is generated and written at a time, so L scale stays within memory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from upsell.generate import catalog
from upsell.generate.accounts import Accounts
from upsell.generate.subscriptions import CROSS_SELL, NEW, UPSELL, Subs
from upsell.generate.timeutil import (
    DAY,
    SEASON,
    business_seconds,
    calendar_month,
    month_index,
    month_start_day,
    to_weekday,
    ts_of_local,
)
from upsell.generate.world import World, ids

FAM = catalog.ONE_OFF_FAMILIES
FAM_IDX = np.array([catalog.FAMILIES.index(f) for f in FAM])
MAIN_P = np.array([0.50, 0.17, 0.10, 0.23])
EXTRA_P = np.array([  # row: main family, column: family of a bundled extra line
    [0.00, 0.60, 0.15, 0.25],
    [0.65, 0.00, 0.20, 0.15],
    [0.50, 0.30, 0.00, 0.20],
    [0.60, 0.20, 0.20, 0.00],
])
FIRST_TIER_P = ((0.70, 0.25, 0.05), (0.75, 0.25), (0.80, 0.20), (0.85, 0.15))
UPGRADE_P = np.array([0.10, 0.07, 0.05, 0.10])
INTEREST_P = np.array([0.9, 0.5, 0.3, 0.35])  # families an account buys at all
OWNED_AT_START_P = 0.75  # existing customers already own most families they buy
NEW_INTEREST_P = 0.03  # an order that opens a family the account never bought before
ORDERS_PER_YEAR_BASE = 1.0
ORDERS_PER_YEAR_LOG = 0.75
STATUS = ("paid", "open", "void", "refunded")


@dataclass
class Forced:
    """Won campaign deals that must show up as orders (one per deal)."""

    account: np.ndarray
    day: np.ndarray
    family: np.ndarray  # index into FAM
    upsell: np.ndarray  # bool; False = cross-sell
    ref: np.ndarray  # campaign deal index


@dataclass
class OrderDeals:
    """Orders that sales booked as deals, and the realized forced orders."""

    account: list[np.ndarray] = field(default_factory=list)
    day: list[np.ndarray] = field(default_factory=list)
    kind: list[np.ndarray] = field(default_factory=list)
    product: list[np.ndarray] = field(default_factory=list)
    amount: list[np.ndarray] = field(default_factory=list)
    forced_ref: list[np.ndarray] = field(default_factory=list)
    lines: int = 0

    def get(self, name: str) -> np.ndarray:
        parts = getattr(self, name)
        return np.concatenate(parts) if parts else np.array([], dtype=np.int64)


def _qty(rng: np.random.Generator, fam: np.ndarray, emp: np.ndarray) -> np.ndarray:
    n = fam.size
    q = np.ones(n, dtype=np.int64)
    dev = (fam == 0) | (fam == 1)
    q[dev] = np.minimum(1 + rng.poisson(emp[dev] * 0.04), 300)
    pr = fam == 2
    q[pr] = 1 + np.minimum(rng.poisson(0.3, int(pr.sum())), 4)
    sec = fam == 3
    q[sec] = np.minimum(5 + rng.poisson(emp[sec] * 0.12), 300)
    return q


def _first_tier(rng: np.random.Generator, fam: np.ndarray) -> np.ndarray:
    out = np.ones(fam.size, dtype=np.int64)
    u = rng.random(fam.size)
    for f, p in enumerate(FIRST_TIER_P):
        m = fam == f
        out[m] = 1 + np.searchsorted(np.cumsum(p), u[m], side="right").clip(0, len(p) - 1)
    return out


def simulate_invoices(w: World, acc: Accounts, subs: Subs, forced: Forced,
                      sink: Callable[[int, pa.Table], None]) -> OrderDeals:
    """Run the months from start to end; ``sink(fiscal_year, table)`` receives each month."""
    start, end = w.start_day, w.end_day
    tt = catalog.tier_table()
    max_tier = np.array([catalog.max_tier(f) for f in FAM])
    n = acc.n
    bought = acc.created < ts_of_local(start, 0)  # existing customers: not "new" any more
    irng = w.rng("interest")
    interest = irng.random((n, len(FAM))) < INTEREST_P
    interest[:, 0] |= ~interest.any(axis=1)
    tier = np.zeros((n, len(FAM)), dtype=np.int64)
    owned = interest & bought[:, None] & (irng.random((n, len(FAM))) < OWNED_AT_START_P)
    for f in range(len(FAM)):
        tier[owned[:, f], f] = _first_tier(irng, np.full(int(owned[:, f].sum()), f))
    rate = (ORDERS_PER_YEAR_BASE + ORDERS_PER_YEAR_LOG * np.log10(acc.employees)) / 12
    disc_rng = w.rng("discount")
    disc = disc_rng.choice(np.array([1.0, 0.97, 0.95, 0.92, 0.9]), n, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    season_mean = SEASON[1:].mean()
    out = OrderDeals()
    end_ts = ts_of_local(end + 1, 0) - 1
    f_month = month_index(forced.day)
    b_month = month_index(subs.b_day)
    for m in range(int(month_index(start)), int(month_index(end)) + 1):
        rng = w.rng("invoices", m)
        lo_m = max(int(month_start_day(m)), start)
        hi_m = min(int(month_start_day(m + 1)) - 1, end)
        active = (acc.first_day <= hi_m) & (acc.churn_day > lo_m)
        lam = rate * SEASON[int(calendar_month(lo_m))] / season_mean * active
        k = rng.poisson(lam)
        oa = np.repeat(np.arange(n), k)
        lo = np.maximum(lo_m, acc.first_day[oa])
        hi = np.minimum(hi_m, acc.churn_day[oa] - 1)
        day = np.minimum(to_weekday(lo + (rng.random(oa.size) * (hi - lo + 1)).astype(np.int64)), hi_m)
        # main family: one the account buys, now and then a family it never bought
        wts = interest[oa] * MAIN_P
        cum = np.cumsum(wts, axis=1) / wts.sum(axis=1, keepdims=True)
        fam = (rng.random(oa.size)[:, None] > cum).sum(axis=1).clip(0, len(FAM) - 1)
        opener = rng.random(oa.size) < NEW_INTEREST_P
        fam = np.where(opener, rng.choice(len(FAM), oa.size, p=MAIN_P), fam)
        interest[oa[opener], fam[opener]] = True
        fi = np.flatnonzero(f_month == m)
        oa = np.concatenate([oa, forced.account[fi]])
        day = np.concatenate([day, forced.day[fi]])
        fam = np.concatenate([fam, forced.family[fi]])
        is_forced = np.concatenate([np.zeros(day.size - fi.size, bool), np.ones(fi.size, bool)])
        f_up = np.concatenate([np.zeros(day.size - fi.size, bool), forced.upsell[fi]])
        f_ref = np.concatenate([np.full(day.size - fi.size, -1), forced.ref[fi]])
        o = np.lexsort((is_forced, oa, day))
        oa, day, fam, is_forced, f_up, f_ref = (x[o] for x in (oa, day, fam, is_forced, f_up, f_ref))
        no = oa.size
        cur = tier[oa, fam]
        new_family = cur == 0
        up = ~is_forced & ~new_family & (cur < max_tier[fam]) & (rng.random(no) < UPGRADE_P[fam])
        t = np.where(new_family, _first_tier(rng, fam), cur + up)
        t = np.where(is_forced & f_up, np.clip(np.maximum(cur + 1, 2), 1, max_tier[fam]), t)
        t = np.where(is_forced & ~f_up, np.maximum(cur, 1), t)
        first_order = ~bought[oa]
        kind = np.where(first_order, NEW, np.where(up, UPSELL, np.where(new_family, CROSS_SELL, -1)))
        kind = np.where(is_forced, np.where(f_up, UPSELL, CROSS_SELL), kind)
        np.maximum.at(tier, (oa, fam), t)
        bought[oa] = True
        # lines: main + bundled extras
        n_extra = rng.binomial(2, 0.28, no)
        n_lines = 1 + n_extra
        lo_idx = np.repeat(np.arange(no), n_lines)
        line_no = np.arange(lo_idx.size) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines) + 1
        lfam = fam[lo_idx].copy()
        ex = line_no > 1
        cum = np.cumsum(EXTRA_P, axis=1)
        u = rng.random(int(ex.sum()))
        lfam[ex] = (u[:, None] > cum[lfam[ex]]).sum(axis=1).clip(0, len(FAM) - 1)
        lt = np.where(ex, 0, t[lo_idx])
        have = tier[oa[lo_idx], lfam]
        lt = np.where(ex, np.where(have > 0, have, _first_tier(rng, lfam)), lt)
        np.maximum.at(tier, (oa[lo_idx][ex], lfam[ex]), lt[ex])
        prod = tt[FAM_IDX[lfam], lt]
        emp = acc.employees[oa[lo_idx]]
        qty = _qty(rng, lfam, emp)
        unit = (np.round(catalog.PRICE[prod] * disc[oa[lo_idx]] / 100) * 100).astype(np.int64)
        amount = qty * unit
        total = np.bincount(lo_idx, weights=amount, minlength=no).astype(np.int64)
        # deals booked from orders
        d = np.flatnonzero((kind >= 0) & ~is_forced)
        out.account.append(oa[d])
        out.day.append(day[d])
        out.kind.append(kind[d])
        out.product.append(prod[line_no == 1][d])
        out.amount.append(total[d])
        out.forced_ref.append(np.full(d.size, -1))
        fo = np.flatnonzero(is_forced)
        out.account.append(oa[fo])
        out.day.append(day[fo])
        out.kind.append(kind[fo])
        out.product.append(prod[line_no == 1][fo])
        out.amount.append(total[fo])
        out.forced_ref.append(f_ref[fo])

        # subscription bills of the month: one invoice, one line each
        bi = np.flatnonzero(b_month == m)
        # credit notes: a returned unit on a few paid orders, later in the same month
        cn = np.flatnonzero(rng.random(no) < 0.004)
        cn_day = np.minimum(day[cn] + rng.integers(3, 20, cn.size), hi_m)
        cn_line = np.flatnonzero(line_no == 1)[cn]
        # invoices: orders, subscription bills, credit notes -> numbered by (day, kind, account)
        inv_day = np.concatenate([day, subs.b_day[bi], cn_day])
        inv_kind = np.concatenate([np.zeros(no, int), np.ones(bi.size, int), np.full(cn.size, 2)])
        inv_acc = np.concatenate([oa, subs.b_account[bi], oa[cn]])
        ni = inv_day.size
        io = np.lexsort((np.arange(ni), inv_acc, inv_kind, inv_day))
        seq = np.empty(ni, dtype=np.int64)
        seq[io] = np.arange(1, ni + 1)
        recent = inv_day > end - 45
        u = rng.random(ni)
        status = np.where(recent & (u < 0.6), 1, np.where(u < 0.01, 1, 0))
        u2 = rng.random(ni)
        status = np.where((inv_kind == 0) & (status == 0) & (u2 < 0.012), 2, status)
        status = np.where((inv_kind == 0) & (status == 0) & (u2 > 0.994), 3, status)
        status = np.where(inv_kind == 2, 0, status)
        lag = np.select([status == 0, status == 1, status == 2],
                        [rng.integers(20, 46, ni), rng.integers(0, 3, ni), rng.integers(1, 11, ni)],
                        rng.integers(30, 91, ni))
        upd = ts_of_local(inv_day + lag, business_seconds(rng, ni))
        # not paid yet as of the export: still open (credit notes settle at once)
        unpaid = (status == 0) & (upd > end_ts) & (inv_kind != 2)
        status = np.where(unpaid, 1, status)
        upd = np.where(unpaid, ts_of_local(inv_day, business_seconds(rng, ni)), upd)
        upd = np.minimum(upd, end_ts)
        # lines of all invoices
        l_inv = np.concatenate([lo_idx, no + np.arange(bi.size), no + bi.size + np.arange(cn.size)])
        l_no = np.concatenate([line_no, np.ones(bi.size + cn.size, dtype=np.int64)])
        l_prod = np.concatenate([prod, subs.b_product[bi], prod[cn_line]])
        cn_qty = -np.minimum(qty[cn_line], 1 + rng.poisson(0.5, cn.size))
        l_qty = np.concatenate([qty, subs.b_qty[bi], cn_qty])
        l_unit = np.concatenate([unit, subs.b_unit[bi], unit[cn_line]])
        l_amount = l_qty * l_unit
        lo2 = np.lexsort((l_no, seq[l_inv]))
        l_inv, l_no, l_prod, l_qty, l_unit, l_amount = (
            x[lo2] for x in (l_inv, l_no, l_prod, l_qty, l_unit, l_amount))
        nl = l_inv.size
        unit_null = (rng.random(nl) < 0.004) & (l_amount >= 0)  # export glitch: price missing
        month_tag = str(np.datetime64(int(m), "M")).replace("-", "")
        table = pa.table({
            "invoice_id": ids(f"INV-{month_tag}-", seq[l_inv], 6),
            "line_no": pa.array(l_no),
            "account_id": acc.account_id.take(pa.array(inv_acc[l_inv])),
            "invoice_date": pa.array(inv_day[l_inv]),
            "product_code": pa.array(catalog.CODES[l_prod].tolist(), pa.string()),
            "quantity": pa.array(l_qty),
            "unit_price_jpy": pa.array(l_unit, mask=unit_null),
            "amount_jpy": pa.array(l_amount),
            "status": pa.DictionaryArray.from_arrays(pa.array(status[l_inv].astype(np.int32)),
                                                     pa.array(STATUS)),
            "updated_at": pa.array(upd[l_inv]),
        })
        out.lines += nl
        fy = (m // 12 + 1970) - (1 if m % 12 < 3 else 0)
        sink(fy, table)
    return out


def forced_from_campaigns(w: World, camp_account: np.ndarray, camp_closed: np.ndarray,
                          camp_family: np.ndarray, camp_upsell: np.ndarray,
                          refs: np.ndarray) -> Forced:
    """Won campaign deals -> orders invoiced a few days after closing."""
    rng = w.rng("forced")
    day = np.minimum((camp_closed + 9 * 3600) // DAY + rng.integers(0, 8, refs.size), w.end_day)
    day = np.minimum(to_weekday(day), w.end_day)
    fam = np.array([FAM.index(f) for f in camp_family], dtype=np.int64) if len(camp_family) else \
        np.array([], dtype=np.int64)
    return Forced(account=camp_account, day=day, family=fam, upsell=camp_upsell, ref=refs)
