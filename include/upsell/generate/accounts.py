"""crm/accounts and crm/contacts: fictional Japanese customer companies and their people.

Besides the exported columns, each account gets latent traits the other modules use:
whether and when it buys (first active day, churn day), satisfaction (drives NPS,
support tickets), a sales owner, and whether its mail gateway runs a link scanner
(machine clicks in email events).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from upsell.generate import names
from upsell.generate.timeutil import DAY, business_seconds, ts_of_local
from upsell.generate.world import World, ids

NEVER = 10**9  # "no such day" (churn)

MULTILINE_ACCOUNT_NAMES = (
    "株式会社みらい商事\n(旧 みらい販売, 2019年合併)",
    "さくら精機株式会社,\n本社営業部",
)


@dataclass
class Accounts:
    n: int
    account_id: pa.Array
    name: pa.Array
    industry: np.ndarray  # index into names.INDUSTRIES
    employees: np.ndarray
    capital: np.ndarray
    capital_null: np.ndarray
    prefecture: np.ndarray
    fy_end: np.ndarray
    created: np.ndarray  # ts
    updated: np.ndarray  # ts
    # the older version carried by the earlier re-export (changed accounts only)
    changed: np.ndarray
    old_employees: np.ndarray
    old_capital: np.ndarray
    old_updated: np.ndarray
    # latent
    customer: np.ndarray
    first_day: np.ndarray
    churn_day: np.ndarray
    satisfaction: np.ndarray
    scanner: np.ndarray
    rep: np.ndarray

    def table(self, old: bool = False) -> pa.Table:
        """Canonical accounts; ``old`` gives the earlier version of changed rows."""
        emp = np.where(self.changed & old, self.old_employees, self.employees)
        cap = np.where(self.changed & old, self.old_capital, self.capital)
        upd = np.where(self.changed & old, self.old_updated, self.updated)
        return pa.table({
            "account_id": self.account_id,
            "account_name": self.name,
            "industry": pa.array([i[0] for i in names.INDUSTRIES]).take(pa.array(self.industry)),
            "employee_count": pa.array(emp),
            "capital_jpy": pa.array(cap, mask=self.capital_null),
            "prefecture": pa.array([p[0] for p in names.PREFECTURES]).take(pa.array(self.prefecture)),
            "fiscal_year_end_month": pa.array(self.fy_end),
            "created_at": pa.array(self.created),
            "updated_at": pa.array(upd),
        })


def _weights(pairs: tuple) -> np.ndarray:
    w = np.array([p[1] for p in pairs], dtype=float)
    return w / w.sum()


def _company_names(rng: np.random.Generator, industry: np.ndarray) -> pa.Array:
    n = industry.size
    words: list[str] = []
    offset = []
    for _, _, ws in names.INDUSTRIES:
        offset.append(len(words))
        words.extend(ws)
    counts = np.array([len(i[2]) for i in names.INDUSTRIES])
    word = np.array(offset)[industry] + (rng.random(n) * counts[industry]).astype(np.int64)
    core = rng.integers(0, len(names.COMPANY_CORE), n)
    base = pc.binary_join_element_wise(pa.array(names.COMPANY_CORE).take(pa.array(core)),
                                       pa.array(words).take(pa.array(word)), "")
    forms = ("株式会社{}", "{}株式会社", "㈱{}", "有限会社{}", "{}㈱", "合同会社{}")
    form = rng.choice(len(forms), n, p=[0.5, 0.38, 0.03, 0.04, 0.02, 0.03])
    out = base
    for i, f in enumerate(forms):
        pre, post = f.split("{}")
        variant = pc.binary_join_element_wise(pre, base, post, "")
        out = pc.if_else(pa.array(form == i), variant, out)
    return out


def build_accounts(w: World) -> Accounts:
    rng = w.rng("accounts")
    n = w.params.accounts
    start, end, snap = w.start_day, w.end_day, w.snap_day
    industry = rng.choice(len(names.INDUSTRIES), n, p=_weights(names.INDUSTRIES))
    employees = np.clip(np.round(rng.lognormal(np.log(60), 1.15, n)), 3, 20_000).astype(np.int64)
    capital = (np.clip(np.round(employees * rng.lognormal(np.log(0.5), 0.8, n)), 1, 50_000)
               * 1_000_000).astype(np.int64)
    capital_null = rng.random(n) < 0.06
    prefecture = rng.choice(len(names.PREFECTURES), n, p=_weights(names.PREFECTURES))
    fy_choices = np.array([3, 12, 9, 6, 1, 2, 4, 5, 7, 8, 10, 11])
    fy_p = np.array([0.70, 0.14, 0.05, 0.05] + [0.0075] * 8)
    fy_end = fy_choices[rng.choice(12, n, p=fy_p / fy_p.sum())]
    pre = rng.random(n) < 0.65
    created_day = np.where(pre, start - 1 - (rng.random(n) * 6 * 365).astype(np.int64),
                           start + (rng.random(n) * (end - 20 - start)).astype(np.int64))
    created = ts_of_local(created_day, business_seconds(rng, n))
    # re-export: ~7% of the accounts existing at the earlier snapshot change after it
    changed = (created_day <= snap - 1) & (rng.random(n) < 0.07)
    snap_end_ts = ts_of_local(snap + 1, 0) - 1
    end_ts = ts_of_local(end + 1, 0) - 1
    upper = np.where(created_day <= snap, snap_end_ts, end_ts)
    updated = created + (rng.random(n) * (upper - created)).astype(np.int64)
    late_lo = np.maximum(created, snap_end_ts + 1)
    updated = np.where(changed, late_lo + (rng.random(n) * (end_ts - late_lo)).astype(np.int64),
                       updated)
    old_updated = created + (rng.random(n) * (snap_end_ts - created)).astype(np.int64)
    old_employees = np.maximum(1, np.round(employees * rng.uniform(0.7, 0.95, n))).astype(np.int64)
    old_capital = np.where(rng.random(n) < 0.5, capital, capital // 2)

    name = _company_names(rng, industry)
    # CP932 extension characters (①, ㈱, 髙, 﨑) and multi-line names, at every scale
    n_special = max(len(names.SPECIAL_NAMES), n // 150)
    pos = rng.choice(n, n_special + len(MULTILINE_ACCOUNT_NAMES), replace=False)
    special = [names.SPECIAL_NAMES[i % len(names.SPECIAL_NAMES)] for i in range(n_special)]
    special += list(MULTILINE_ACCOUNT_NAMES)
    repl = np.full(n, -1)
    repl[pos] = np.arange(pos.size)
    name = pc.if_else(pa.array(repl >= 0),
                      pa.array(special, pa.string()).take(pa.array(np.maximum(repl, 0))), name)

    customer = rng.random(n) < 0.92
    first_day = np.where(pre, start + (rng.random(n) * 20).astype(np.int64),
                         created_day + 1 + (rng.random(n) * 45).astype(np.int64))
    first_day = np.where(customer & (first_day <= end), first_day, NEVER)
    churns = rng.random(n) < 0.22
    churn_day = np.where(churns, first_day + 200 + (rng.random(n) * (end - start + 200)).astype(np.int64),
                         NEVER)
    churn_day = np.where(first_day == NEVER, NEVER, churn_day)
    satisfaction = np.clip(rng.normal(7.4, 1.5, n) - np.where(churns, 1.6, 0.0), 0, 10)
    scanner = rng.random(n) < 0.06
    rep = rng.integers(0, len(names.SALES_REPS), n)
    return Accounts(
        n=n, account_id=ids("ACC-", np.arange(1, n + 1), 6), name=name, industry=industry,
        employees=employees, capital=capital, capital_null=capital_null, prefecture=prefecture,
        fy_end=fy_end, created=created, updated=updated, changed=changed,
        old_employees=old_employees, old_capital=old_capital, old_updated=old_updated,
        customer=customer, first_day=first_day, churn_day=churn_day, satisfaction=satisfaction,
        scanner=scanner, rep=rep,
    )


@dataclass
class Contacts:
    n: int
    account: np.ndarray  # account index, sorted ascending
    first_of_account: np.ndarray  # [account] -> first contact index
    count_of_account: np.ndarray
    contact_id: pa.Array
    email: pa.Array  # nullable
    has_email: np.ndarray
    full_name: pa.Array
    department: pa.Array
    title: pa.Array
    decision_maker: np.ndarray
    created: np.ndarray
    updated: np.ndarray
    hard_bounce: np.ndarray  # the address bounces
    mpp: np.ndarray  # reads mail in Apple Mail with Privacy Protection
    engagement: np.ndarray  # 0..1 propensity to open/click

    def table(self, acc: Accounts) -> pa.Table:
        return pa.table({
            "contact_id": self.contact_id,
            "account_id": acc.account_id.take(pa.array(self.account)),
            "email": self.email,
            "full_name": self.full_name,
            "department": self.department,
            "title": self.title,
            "is_decision_maker": pa.array(self.decision_maker),
            "created_at": pa.array(self.created),
            "updated_at": pa.array(self.updated),
        })


def build_contacts(w: World, acc: Accounts) -> Contacts:
    rng = w.rng("contacts")
    lam = 1.0 + 0.55 * np.log10(acc.employees)
    per = np.clip(1 + rng.poisson(lam), 1, 9)
    n = int(per.sum())
    account = np.repeat(np.arange(acc.n), per)
    first = np.concatenate([[0], np.cumsum(per)[:-1]])
    k = np.arange(n) - first[account] + 1
    fam = rng.integers(0, len(names.FAMILY_NAMES), n)
    giv = rng.integers(0, len(names.GIVEN_NAMES), n)
    fam_k = pa.array([f[0] for f in names.FAMILY_NAMES]).take(pa.array(fam))
    giv_k = pa.array([g[0] for g in names.GIVEN_NAMES]).take(pa.array(giv))
    fam_r = pa.array([f[1] for f in names.FAMILY_NAMES]).take(pa.array(fam))
    giv_r = pa.array([g[1] for g in names.GIVEN_NAMES]).take(pa.array(giv))
    suffix = pc.if_else(pa.array(k > 1), pc.cast(pa.array(k), pa.string()), "")
    local = pc.binary_join_element_wise(giv_r, ".", fam_r, suffix, "")
    domain = pc.binary_join_element_wise(
        "@a", pc.utf8_lpad(pc.cast(pa.array(account + 1), pa.string()), 6, padding="0"),
        ".example.co.jp", "")
    has_email = rng.random(n) >= 0.02
    email = pc.if_else(pa.array(has_email), pc.binary_join_element_wise(local, domain, ""),
                       pa.scalar(None, pa.string()))
    full_name = pc.binary_join_element_wise(fam_k, giv_k, " ")
    dept_w = np.array([d[1] for d in names.DEPARTMENTS])
    dept = rng.choice(len(names.DEPARTMENTS), n, p=dept_w / dept_w.sum())
    department = pa.array([d[0] for d in names.DEPARTMENTS]).take(pa.array(dept))
    # a few Excel cells with a line break and a comma
    ml = rng.choice(n, min(n, len(names.MULTILINE_DEPARTMENTS) + 1), replace=False)
    ml_val = np.full(n, -1)
    ml_val[ml] = np.arange(ml.size) % len(names.MULTILINE_DEPARTMENTS)
    department = pc.if_else(
        pa.array(ml_val >= 0),
        pa.array(names.MULTILINE_DEPARTMENTS).take(pa.array(np.maximum(ml_val, 0))), department)
    title_w = np.array([t[1] for t in names.TITLES])
    tit = rng.choice(len(names.TITLES), n, p=title_w / title_w.sum())
    title = pa.array([t[0] for t in names.TITLES]).take(pa.array(tit))
    dm_p = np.array([t[2] for t in names.TITLES])[tit]
    decision_maker = rng.random(n) < dm_p
    acc_created = acc.created[account]
    end_ts = ts_of_local(w.end_day + 1, 0) - 1
    room = np.maximum(end_ts - DAY - acc_created, 0)
    lag = (rng.exponential(150, n) * DAY).astype(np.int64)
    lag = np.where(lag < room, lag, (rng.random(n) * room).astype(np.int64))
    created = acc_created + lag
    updated = created + (rng.random(n) * (end_ts - created)).astype(np.int64)
    return Contacts(
        n=n, account=account, first_of_account=first, count_of_account=per,
        contact_id=ids("CON-", np.arange(1, n + 1), 7), email=email, has_email=has_email,
        full_name=full_name, department=department, title=title, decision_maker=decision_maker,
        created=created, updated=updated,
        hard_bounce=rng.random(n) < 0.025, mpp=rng.random(n) < 0.15,
        engagement=rng.beta(2.0, 2.5, n),
    )


def random_contact(rng: np.random.Generator, con: Contacts, account: np.ndarray) -> np.ndarray:
    """One random contact index per account index (every account has >= 1 contact)."""
    account = np.asarray(account, dtype=np.int64)
    off = (rng.random(account.size) * con.count_of_account[account]).astype(np.int64)
    return con.first_of_account[account] + off
