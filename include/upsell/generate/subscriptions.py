"""billing/subscriptions: annual contracts with renewals, expansions, upgrades and churn.

Each subscription is exported as a change log: one row per version (start, seat
expansion, tier upgrade, renewal, cancellation, expiry), all with the same
subscription_id and a newer updated_at, so newest-wins gives the current contract and the
history gives MRR movements. Billing lines (monthly for office_suite, annual for
maintenance and backup) and the CRM deals behind each event come from the same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from upsell.generate import catalog
from upsell.generate.accounts import Accounts
from upsell.generate.timeutil import DAY, add_months, business_seconds, month_index, ts_of_local
from upsell.generate.world import World, ids

ADOPTION = {"maintenance": 0.40, "office_suite": 0.42, "backup": 0.22}
FIRST_TIER_P = {"maintenance": (0.7, 0.3), "office_suite": (0.45, 0.42, 0.13), "backup": (0.75, 0.25)}
STATUS = ("active", "cancelled", "expired")
# deal kinds shared with the CRM module
NEW, UPSELL, CROSS_SELL, RENEWAL = 0, 1, 2, 3


@dataclass
class Subs:
    n: int
    sub_id: pa.Array
    account: np.ndarray
    family: np.ndarray  # index into catalog.FAMILIES
    # versions (sorted by updated_at)
    v_sub: np.ndarray
    v_ts: np.ndarray
    v_product: np.ndarray
    v_seats: np.ndarray
    v_unit: np.ndarray  # monthly price per seat
    v_usage: np.ndarray
    v_status: np.ndarray
    v_end: np.ndarray  # local day, -1 = null
    v_renewal: np.ndarray
    start_day: np.ndarray  # [sub]
    # billing events
    b_day: np.ndarray
    b_account: np.ndarray
    b_product: np.ndarray
    b_qty: np.ndarray
    b_unit: np.ndarray
    # deals (all won except lost renewals)
    d_account: np.ndarray
    d_kind: np.ndarray
    d_product: np.ndarray
    d_amount: np.ndarray
    d_created: np.ndarray
    d_closed: np.ndarray
    d_won: np.ndarray

    def table(self, acc: Accounts) -> pa.Table:
        return pa.table({
            "subscription_id": self.sub_id.take(pa.array(self.v_sub)),
            "account_id": acc.account_id.take(pa.array(self.account[self.v_sub])),
            "product_code": pa.array(catalog.CODES[self.v_product].tolist(), pa.string()),
            "seats": pa.array(self.v_seats),
            "mrr_jpy": pa.array(self.v_seats * self.v_unit),
            "usage_rate": pa.array(np.round(self.v_usage, 3)),
            "start_date": pa.array(self.start_day[self.v_sub]),
            "end_date": pa.array(self.v_end, mask=self.v_end < 0),
            "renewal_date": pa.array(self.v_renewal, mask=self.v_renewal < 0),
            "status": pa.array(np.array(STATUS, dtype=object)[self.v_status].tolist(), pa.string()),
            "updated_at": pa.array(self.v_ts),
        })


class _Log:
    """Column lists that grow by whole arrays (one append per lifecycle event)."""

    def __init__(self, *names: str) -> None:
        self.cols: dict[str, list[np.ndarray]] = {n: [] for n in names}

    def add(self, **arrays: np.ndarray) -> None:
        sizes = [np.size(v) for v in arrays.values() if np.ndim(v) > 0]
        k = max(sizes) if sizes else 1
        for name, parts in self.cols.items():
            parts.append(np.broadcast_to(np.asarray(arrays[name]), (k,)).astype(np.int64)
                         if name != "usage" else np.broadcast_to(arrays[name], (k,)).astype(float))

    def get(self, name: str) -> np.ndarray:
        return np.concatenate(self.cols[name]) if self.cols[name] else np.array([], np.int64)


def build_subscriptions(w: World, acc: Accounts) -> Subs:
    rng = w.rng("subscriptions")
    start, end = w.start_day, w.end_day
    fams = [catalog.FAMILIES.index(f) for f in catalog.SUB_FAMILIES]
    tt = catalog.tier_table()
    parts = []
    for fi, fam in zip(fams, catalog.SUB_FAMILIES, strict=True):
        adopt = acc.customer & (rng.random(acc.n) < ADOPTION[fam])
        lo = np.maximum(acc.first_day, start)
        hi = np.minimum(acc.churn_day, end - 15) - 1
        a = np.flatnonzero(adopt & (hi > lo))
        s = lo[a] + (rng.beta(1.0, 1.8, a.size) * (hi[a] - lo[a])).astype(np.int64)
        # most existing customers signed before the data starts (no deal, billed from start)
        created_day = (acc.created[a] + 9 * 3600) // DAY
        before = (created_day < start - 30) & (rng.random(a.size) < 0.6)
        lo_b = np.maximum(created_day, start - 3 * 365)
        s = np.where(before, lo_b + (rng.random(a.size) * (start - lo_b)).astype(np.int64), s)
        p = np.array(FIRST_TIER_P[fam])
        tier = rng.choice(p.size, a.size, p=p) + 1
        emp = acc.employees[a]
        if fam == "maintenance":
            seats = np.maximum(1, np.round(emp * rng.uniform(0.3, 0.8, a.size)))
        elif fam == "office_suite":
            seats = np.maximum(1, np.round(emp * rng.uniform(0.5, 0.95, a.size)))
        else:
            seats = 1 + (emp > 200) + (emp > 1000)
        parts.append((a, np.full(a.size, fi), s, tier, seats.astype(np.int64)))
    account = np.concatenate([p[0] for p in parts])
    family = np.concatenate([p[1] for p in parts])
    sday = np.concatenate([p[2] for p in parts])
    tier = np.concatenate([p[3] for p in parts])
    seats = np.concatenate([p[4] for p in parts])
    order = np.lexsort((family, account, sday))
    account, family, sday, tier, seats = (x[order] for x in (account, family, sday, tier, seats))
    n = account.size
    disc = rng.uniform(0.85, 1.0, n)

    def unit_of(t: np.ndarray) -> np.ndarray:
        return (np.round(catalog.PRICE[tt[family, t]] * disc / 10) * 10).astype(np.int64)

    usage = rng.beta(4.0, 2.6, n)
    annual_billed = np.isin(family, [catalog.FAMILIES.index(f) for f in ("maintenance", "backup")])
    V = _Log("sub", "ts", "product", "seats", "unit", "usage", "status", "end", "renewal")
    D = _Log("account", "kind", "product", "amount", "created", "closed", "won")
    all_subs = np.arange(n)
    start_ts = ts_of_local(sday, 9 * 3600 + rng.integers(0, 7200, n))
    V.add(sub=all_subs, ts=start_ts, product=tt[family, tier], seats=seats, unit=unit_of(tier),
          usage=usage, status=0, end=-1, renewal=add_months(sday, 12))
    existing = acc.first_day[account] < sday - 30
    closed = ts_of_local(sday - rng.integers(3, 20, n), business_seconds(rng, n))
    D.add(account=account, kind=np.where(existing, CROSS_SELL, NEW), product=tt[family, tier],
          amount=12 * seats * unit_of(tier), created=closed - rng.integers(14, 60, n) * DAY,
          closed=closed, won=1)
    alive = np.ones(n, dtype=bool)
    last_ts = start_ts.copy()
    max_tier = np.array([catalog.max_tier(f) for f in catalog.FAMILIES])[family]
    years = (end - int(sday.min())) // 365 + 2 if n else 0
    for k in range(1, years + 1):
        prev_ann = add_months(sday, 12 * (k - 1))
        ann = add_months(sday, 12 * k)
        # mid-term seat expansion (usage was high: that is why they buy more seats)
        exp_day = prev_ann + rng.integers(30, 330, n)
        ex = (alive & (rng.random(n) < 0.12) & (exp_day < np.minimum(ann, end))
              & (exp_day < acc.churn_day[account]))
        i = np.flatnonzero(ex)
        if i.size:
            new_seats = np.ceil(seats[i] * rng.uniform(1.15, 1.6, i.size)).astype(np.int64)
            ts = np.maximum(ts_of_local(exp_day[i], business_seconds(rng, i.size)), last_ts[i] + 60)
            usage[i] = np.clip(usage[i] * seats[i] / new_seats + 0.05, 0.05, 1.0)
            V.add(sub=i, ts=ts, product=tt[family[i], tier[i]], seats=new_seats,
                  unit=unit_of(tier)[i], usage=usage[i], status=0, end=-1, renewal=ann[i])
            cl = ts - rng.integers(1, 10, i.size) * DAY
            D.add(account=account[i], kind=UPSELL, product=tt[family[i], tier[i]],
                  amount=12 * (new_seats - seats[i]) * unit_of(tier)[i],
                  created=cl - rng.integers(14, 45, i.size) * DAY, closed=cl, won=1)
            seats[i] = new_seats
            last_ts[i] = ts
        at = alive & (ann <= end)
        churned = at & (acc.churn_day[account] <= ann)
        cancel = at & ~churned & (rng.random(n) < 0.07)
        upgrade = at & ~churned & ~cancel & (tier < max_tier) & (rng.random(n) < 0.10)
        renew = at & ~churned & ~cancel
        usage = np.clip(usage + rng.normal(0.04, 0.1, n), 0.05, 1.0)
        i = np.flatnonzero(churned)
        ts = np.maximum(ts_of_local(ann[i] + 1, 9 * 3600 + rng.integers(0, 3600, i.size)),
                        last_ts[i] + 60)
        V.add(sub=i, ts=ts, product=tt[family[i], tier[i]], seats=seats[i], unit=unit_of(tier)[i],
              usage=usage[i], status=2, end=ann[i], renewal=-1)
        i = np.flatnonzero(cancel)
        ts = np.maximum(ts_of_local(ann[i] - rng.integers(10, 40, i.size), business_seconds(rng, i.size)),
                        last_ts[i] + 60)
        V.add(sub=i, ts=ts, product=tt[family[i], tier[i]], seats=seats[i], unit=unit_of(tier)[i],
              usage=usage[i], status=1, end=ann[i], renewal=-1)
        lost = i[annual_billed[i] & (rng.random(i.size) < 0.5)]
        cl = ts_of_local(ann[lost] - rng.integers(5, 30, lost.size), business_seconds(rng, lost.size))
        D.add(account=account[lost], kind=RENEWAL, product=tt[family[lost], tier[lost]],
              amount=12 * seats[lost] * unit_of(tier)[lost],
              created=cl - rng.integers(20, 60, lost.size) * DAY, closed=cl, won=0)
        tier = np.where(upgrade, tier + 1, tier)
        i = np.flatnonzero(renew)
        ts = np.maximum(ts_of_local(ann[i], 9 * 3600 + rng.integers(0, 7200, i.size)), last_ts[i] + 60)
        V.add(sub=i, ts=ts, product=tt[family[i], tier[i]], seats=seats[i], unit=unit_of(tier)[i],
              usage=usage[i], status=0, end=-1, renewal=add_months(sday[i], 12 * (k + 1)))
        last_ts[i] = ts
        up = np.flatnonzero(upgrade)
        cl = ts_of_local(ann[up] - rng.integers(5, 25, up.size), business_seconds(rng, up.size))
        D.add(account=account[up], kind=UPSELL, product=tt[family[up], tier[up]],
              amount=12 * seats[up] * unit_of(tier)[up],
              created=cl - rng.integers(20, 60, up.size) * DAY, closed=cl, won=1)
        rn = np.flatnonzero(renew & ~upgrade & annual_billed & (rng.random(n) < 0.5))
        cl = ts_of_local(ann[rn] - rng.integers(3, 30, rn.size), business_seconds(rng, rn.size))
        D.add(account=account[rn], kind=RENEWAL, product=tt[family[rn], tier[rn]],
              amount=12 * seats[rn] * unit_of(tier)[rn],
              created=cl - rng.integers(10, 45, rn.size) * DAY, closed=cl, won=1)
        alive &= ~(churned | cancel)

    v_sub, v_ts = V.get("sub"), V.get("ts")
    vo = np.lexsort((v_sub, v_ts))
    ver = {k: V.get(k)[vo] for k in V.cols}
    end_ts = ts_of_local(end + 1, 0) - 1
    keep = ver["ts"] <= end_ts
    ver = {k: v[keep] for k, v in ver.items()}

    # billing: bill day j of each subscription, priced by the version in effect at noon
    sub_end = np.full(n, 10**9, dtype=np.int64)
    ended = ver["end"] >= 0
    sub_end[ver["sub"][ended]] = ver["end"][ended]
    limit = np.minimum(sub_end - 1, end)
    step = np.where(annual_billed, 12, 1)
    months = month_index(limit) - month_index(sday)
    count = np.maximum(months // step + 1, 0)
    last = add_months(sday, (count - 1) * step)
    count = np.where((count > 0) & (last > limit), count - 1, count)
    b_sub = np.repeat(np.arange(n), count)
    j = np.arange(b_sub.size) - np.repeat(np.cumsum(count) - count, count)
    b_day = add_months(sday[b_sub], j * step[b_sub])
    key_v = ver["sub"] * (1 << 34) + ver["ts"]
    vorder = np.argsort(key_v, kind="stable")
    key_sorted = key_v[vorder]
    key_b = b_sub * (1 << 34) + ts_of_local(b_day, 12 * 3600)
    vi = vorder[np.searchsorted(key_sorted, key_b, side="right") - 1]
    b_unit = ver["unit"][vi] * step[b_sub]
    inside = b_day >= start
    bo = np.lexsort((b_sub, b_day))
    bo = bo[inside[bo]]

    dd = {k: D.get(k) for k in D.cols}
    start_ts_range = ts_of_local(start, 9 * 3600)
    dkeep = (dd["closed"] <= end_ts) & (dd["closed"] >= start_ts_range)
    dd = {k: v[dkeep] for k, v in dd.items()}
    return Subs(
        n=n, sub_id=ids("SUB-", np.arange(1, n + 1), 7), account=account, family=family,
        v_sub=ver["sub"], v_ts=ver["ts"], v_product=ver["product"], v_seats=ver["seats"],
        v_unit=ver["unit"], v_usage=ver["usage"], v_status=ver["status"], v_end=ver["end"],
        v_renewal=ver["renewal"], start_day=sday,
        b_day=b_day[bo], b_account=account[b_sub][bo], b_product=ver["product"][vi][bo],
        b_qty=ver["seats"][vi][bo], b_unit=b_unit[bo],
        d_account=dd["account"], d_kind=dd["kind"], d_product=dd["product"],
        d_amount=dd["amount"], d_created=dd["created"], d_closed=dd["closed"], d_won=dd["won"],
    )
