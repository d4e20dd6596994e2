"""Generate the shipped SYNTHETIC demo panel (337 cities x 2011-2022) from a documented DGP.

Run from the repository root (needs only the package itself)::

    python spatialinno/data/make_demo_panel.py            # seed 20241124, writes the two CSVs

THE DATA ARE SYNTHETIC. They look like a yearbook panel (units, magnitudes, historical names) so
that every stage of spatialinno can be exercised end to end, but no value is an observation.

Data-generating process (t = 2011..2022, i = the 337 default units, W = row-standardised queen
contiguity of the shipped boundary layer; islands have zero rows of W):

1. Controls, standardised scale: ``x_k,it = a_k,i + g_k (t - 2011) + 0.3 x_k,i,t-1 + v_k,it`` with
   unit effects a_k,i correlated across k and with the unit effect of step 2 (so pooled OLS is
   biased and fixed effects are needed), then mapped to yearbook units (GDP per capita in yuan,
   FDI in 100 million USD, ...).
2. Latent NQPF, a spatial Durbin model with two-way fixed effects::

       z_t = (I - rho W)^{-1} (X_t beta + W X_t theta + mu + lambda_t 1 + e_t),  e ~ N(0, sigma^2 I)

   with the parameters in ``PARAMS`` (written to the data README); mu_i ~ N(0, 0.5^2) plus 1.0
   for municipalities and provincial capitals.
3. Fourteen NQPF indicators in three dimensions (innovation, digital, green), each a noisy
   monotone function of z: amounts ``exp(a + c z + s u)`` scaled to yearbook units; rates
   ``100 logistic(a + c z + s u)``; negative indicators (energy intensity, SO2, wastewater) have
   c < 0.
4. An outcome, log green TFP, again an SDM with z as a regressor::

       y_t = (I - rho_y W)^{-1} (gamma z_t + W z_t delta + X_t kappa + mu_y + lambda_y,t + eps_t)

5. Yearbook messiness: each row carries the unit's name and code as printed in the code table of
   the previous year-end (毕节地区 522400 in 2011, 那曲地区 until 2017, 儋州 469003 until 2015,
   ...); 莱芜 (abolished 2018) appears as its own rows 2011-2018 with part of 济南's amounts; 巢湖
   (abolished 2011, split) appears in 2011 with part of 合肥's amounts. Joining it therefore
   needs ``merged="aggregate"`` with the rules in ``AGGREGATE_RULES``.

6. A SYNTHETIC policy (a separate file, so that the panel above stays byte-identical): a pilot
   programme adopted in staggered cohorts 2014, 2016, 2018 and 2020 by units drawn with a
   probability rising in their 2011-2013 mean latent NQPF, never switched off; the policy
   enters the outcome's SDM with a direct and a spillover part::

       ln_gtfp_pilot_t = ln_gtfp_t + (I - rho_y W)^{-1} (beta_D D_t + theta_D W D_t)

   (``POLICY``; its own random stream ``default_rng([seed, 2])``). The true average direct,
   indirect and total effects of D (LeSage and Pace 2009, on the DGP's W) are computed by
   :func:`policy_truth` and printed in the data README.

Outputs: ``demo_panel_SYNTHETIC.csv`` (the panel), ``demo_truth_SYNTHETIC.csv`` (the latent z
and the structural parts, per current unit and year, for validation only) and
``demo_policy_SYNTHETIC.csv`` (adcode, year, pilot, pilot_year, ln_gtfp_pilot).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20241124
YEARS = list(range(2011, 2023))
CONTROLS = ["ln_pgdp", "ln_fdi", "ln_fiscal", "human_capital", "urbanisation"]
PARAMS = {
    "rho": 0.35, "sigma": 0.30,
    "beta": {"ln_pgdp": 0.50, "ln_fdi": 0.10, "ln_fiscal": 0.20, "human_capital": 0.30, "urbanisation": 0.20},
    "theta": {"ln_pgdp": 0.20, "ln_fdi": 0.05, "ln_fiscal": -0.10, "human_capital": 0.15, "urbanisation": 0.00},
    "trend": 0.08, "unit_effect_sd": 0.50, "capital_premium": 1.0,
    "rho_y": 0.25, "gamma": 0.40, "delta": 0.10, "kappa_ln_pgdp": 0.20, "sigma_y": 0.15,
}
# indicator: (dimension, direction, kind, intercept a, loading c, noise s, scale, decimals, unit)
INDICATORS = {
    "rd_expenditure": ("innovation", "+", "amount", 2.0, 0.9, 0.25, 1.0, 2, "100 million yuan"),
    "patents_granted": ("innovation", "+", "amount", 8.0, 1.0, 0.30, 1.0, 0, "items"),
    "rd_personnel": ("innovation", "+", "amount", 1.0, 0.8, 0.25, 1.0, 2, "10 thousand persons"),
    "high_tech_firms": ("innovation", "+", "amount", 5.5, 0.9, 0.30, 1.0, 0, "firms"),
    "tech_market_turnover": ("innovation", "+", "amount", 2.5, 1.1, 0.40, 1.0, 2, "100 million yuan"),
    "broadband_users": ("digital", "+", "amount", 4.5, 0.6, 0.20, 1.0, 1, "10 thousand households"),
    "mobile_users": ("digital", "+", "amount", 6.0, 0.5, 0.15, 1.0, 1, "10 thousand subscribers"),
    "telecom_revenue": ("digital", "+", "amount", 3.0, 0.7, 0.25, 1.0, 2, "100 million yuan"),
    "digital_finance_index": ("digital", "+", "rate", 0.5, 0.6, 0.20, 400.0, 2, "index (0-400)"),
    "software_employment": ("digital", "+", "amount", -0.5, 1.0, 0.35, 1.0, 3, "10 thousand persons"),
    "energy_intensity": ("green", "-", "amount", -0.4, -0.35, 0.15, 1.0, 3, "tce per 10 thousand yuan GDP"),
    "so2_emissions": ("green", "-", "amount", 9.5, -0.45, 0.35, 1.0, 0, "tonnes"),
    "wastewater": ("green", "-", "amount", 8.0, -0.30, 0.30, 1.0, 0, "10 thousand tonnes"),
    "green_coverage": ("green", "+", "rate", 0.5, 0.3, 0.15, 100.0, 2, "% of built-up area"),
}
# Rules for joining the demo panel (莱芜 and 巢湖 rows): amounts add up, rates and indices keep
# the successor's own value.
AGGREGATE_RULES = {name: ("sum" if spec[2] == "amount" else "successor") for name, spec in INDICATORS.items()}
AGGREGATE_RULES.update({"gdp": "sum", "population": "sum", "fdi": "sum", "fiscal_expenditure": "sum",
                        "pgdp": "successor", "human_capital": "successor", "urbanisation": "successor",
                        "ln_gtfp": "successor"})
# The SYNTHETIC pilot programme of step 6: cohorts (adoption years), the logit of ever being
# treated (intercept, slope on the standardised 2011-2013 mean latent NQPF) and the effects.
POLICY = {"cohorts": (2014, 2016, 2018, 2020), "logit": (-0.9, 0.8), "beta_D": 0.10,
          "theta_D": 0.15}
# share of the successor's amounts that belonged to the abolished unit
ABOLISHED_SHARES = {"371200": ("370100", 0.12, YEARS[:8]), "341400": ("340100", 0.18, [2011])}


def queen_w(units: list[str]) -> np.ndarray:
    """Row-standardised queen contiguity of the shipped layer, in the order of `units`."""
    from libpysal.weights import Queen

    from spatialinno.boundaries import load_boundaries

    layer = load_boundaries().set_index("adcode").loc[units].reset_index()
    w = Queen.from_dataframe(layer, use_index=False, silence_warnings=True)
    dense = w.full()[0]
    rs = dense.sum(axis=1, keepdims=True)
    return np.divide(dense, rs, out=np.zeros_like(dense), where=rs > 0)


def yearbook_labels(units: list[str], years: list[int]) -> pd.DataFrame:
    """Name and code of each unit as printed in the previous year-end code table."""
    from spatialinno.cities import aliases

    al = aliases()
    al = al[al["relation"].isin(["current", "renamed", "code_changed"])]
    rows = []
    for u in units:
        cand = al[al["unit"] == u]
        for y in years:
            ok = cand[(cand["valid_from"].eq("") | (cand["valid_from"].replace("", "0").astype(int) <= y - 1))
                      & (cand["valid_to"].eq("") | (cand["valid_to"].replace("", "9999").astype(int) >= y))]
            ok = ok[ok["level"] != "province_county"] if len(ok) > 1 else ok
            if ok.empty:  # unit created later (三沙 2012): keyed retroactively by its current name
                ok = cand[cand["relation"] == "current"]
            r = ok.sort_values("valid_to", key=lambda s: s.replace("", "9999")).iloc[0]
            rows.append((u, y, r["name"], r["code"]))
    return pd.DataFrame(rows, columns=["unit", "year", "city", "code"])


def generate(seed: int = SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    from spatialinno.cities import aliases, registry

    rng = np.random.default_rng(seed)
    reg = registry()
    units = reg["adcode"].tolist()
    n, T = len(units), len(YEARS)
    W = queen_w(units)
    I = np.eye(n)
    p = PARAMS

    # 1. controls (standardised scale), unit effects correlated with the NQPF unit effect
    mu = rng.normal(0, p["unit_effect_sd"], n)
    # municipalities and provincial capitals (codes XX0000 / XX0100) get a higher unit effect so
    # that the synthetic magnitudes rank cities plausibly
    mu += p["capital_premium"] * np.array([u.endswith("0000") or u.endswith("0100") for u in units])
    X = np.zeros((T, n, len(CONTROLS)))
    growth = np.array([0.06, 0.03, 0.05, 0.04, 0.05])
    a = 0.6 * mu[:, None] + rng.normal(0, 0.8, (n, len(CONTROLS)))
    for t in range(T):
        prev = X[t - 1] - a - growth * (t - 1) if t else 0.0
        X[t] = a + growth * t + 0.3 * prev + rng.normal(0, 0.15, (n, len(CONTROLS)))
    beta = np.array([p["beta"][c] for c in CONTROLS])
    theta = np.array([p["theta"][c] for c in CONTROLS])

    # 2. latent NQPF: SDM with two-way fixed effects
    A = np.linalg.inv(I - p["rho"] * W)
    lam = p["trend"] * np.arange(T)
    Z = np.zeros((T, n))
    for t in range(T):
        e = rng.normal(0, p["sigma"], n)
        Z[t] = A @ (X[t] @ beta + W @ X[t] @ theta + mu + lam[t] + e)

    # 4. outcome: SDM in y with z as a regressor
    Ay = np.linalg.inv(I - p["rho_y"] * W)
    mu_y = 0.5 * mu + rng.normal(0, 0.3, n)
    Y = np.zeros((T, n))
    for t in range(T):
        eps = rng.normal(0, p["sigma_y"], n)
        Y[t] = Ay @ (p["gamma"] * Z[t] + p["delta"] * (W @ Z[t]) + p["kappa_ln_pgdp"] * X[t, :, 0]
                     + mu_y + 0.02 * t + eps)

    # to long format, current units
    idx = pd.MultiIndex.from_product([YEARS, units], names=["year", "unit"]).to_frame(index=False)
    Xl = X.reshape(T * n, -1)
    truth = idx.assign(nqpf_latent=Z.reshape(-1), ln_gtfp=Y.reshape(-1))
    for k, c in enumerate(CONTROLS):
        truth[c] = Xl[:, k]
    z = truth["nqpf_latent"].to_numpy()
    zs = (z - z.mean()) / z.std()

    panel = idx.copy()
    # 3. indicators in yearbook units
    for name, (_dim, _dir, kind, a0, c, s, scale, dec, _unit) in INDICATORS.items():
        u = rng.normal(0, 1, len(zs))
        if kind == "amount":
            val = np.exp(a0 + c * zs + s * u) * scale
        else:
            val = scale / (1 + np.exp(-(a0 + c * zs + s * u)))
        panel[name] = np.round(val, dec)
    # controls in yearbook units
    pop = np.round(np.exp(5.8 + 0.5 * Xl[:, 4] + rng.normal(0, 0.05, len(zs))), 2)  # 10k persons
    pgdp = np.round(np.exp(10.6 + 0.35 * Xl[:, 0]), 0)  # yuan per person
    panel["population"] = pop
    panel["gdp"] = np.round(pgdp * pop / 1e4, 2)  # 100 million yuan
    panel["pgdp"] = pgdp
    panel["fdi"] = np.round(np.exp(1.0 + 0.8 * Xl[:, 1]), 3)  # 100 million USD
    panel["fiscal_expenditure"] = np.round(np.exp(5.0 + 0.5 * Xl[:, 2]), 2)  # 100 million yuan
    panel["human_capital"] = np.round(np.exp(4.5 + 0.4 * Xl[:, 3]), 1)  # students per 10k persons
    panel["urbanisation"] = np.round(100 / (1 + np.exp(-(0.3 + 0.6 * Xl[:, 4]))), 2)  # %
    panel["ln_gtfp"] = np.round(truth["ln_gtfp"].to_numpy(), 6)

    # 5. yearbook labels and the rows of abolished units
    labels = yearbook_labels(units, YEARS)
    panel = panel.merge(labels, on=["unit", "year"], how="left", validate="one_to_one")
    amounts = [k for k, r in AGGREGATE_RULES.items() if r == "sum"]
    extra = []
    al = aliases().set_index("code")
    for code, (succ, share, years) in ABOLISHED_SHARES.items():
        for y in years:
            m = (panel["unit"] == succ) & (panel["year"] == y)
            base = panel.loc[m].iloc[0].copy()
            part = base.copy()
            for col in amounts:
                dec = INDICATORS[col][7] if col in INDICATORS else 2
                part[col] = np.round(base[col] * share, dec)
                panel.loc[m, col] = np.round(base[col] - part[col], dec)
            for col in [k for k, r in AGGREGATE_RULES.items() if r == "successor"]:
                part[col] = np.round(base[col] * (1 + rng.normal(0, 0.03)), 6 if col == "ln_gtfp" else 2)
            part["city"], part["code"], part["unit"] = al.loc[code, "name"], code, code
            extra.append(part)
    panel = pd.concat([panel, pd.DataFrame(extra)], ignore_index=True)
    panel = panel.sort_values(["year", "code"], kind="stable").reset_index(drop=True)
    cols = ["city", "code", "year"] + list(INDICATORS) + ["gdp", "population", "pgdp", "fdi",
                                                          "fiscal_expenditure", "human_capital",
                                                          "urbanisation", "ln_gtfp"]
    truth = truth.rename(columns={"unit": "adcode"})[["adcode", "year", "nqpf_latent", "ln_gtfp"] + CONTROLS]
    return panel[cols], truth


def generate_policy(truth: pd.DataFrame, seed: int = SEED) -> pd.DataFrame:
    """Step 6: the SYNTHETIC pilot programme and the outcome it moves (see the module docstring).

    ``truth`` is the second output of :func:`generate`; returns one row per current unit and
    year: adcode, year, pilot (0/1), pilot_year (adoption year, empty if never treated),
    ln_gtfp_pilot (``ln_gtfp`` plus the policy's direct and spillover parts).
    """
    rng = np.random.default_rng([seed, 2])
    units = sorted(truth["adcode"].unique())
    years = sorted(truth["year"].unique())
    t = truth.set_index(["year", "adcode"]).sort_index()
    z0 = t.loc[years[:3], "nqpf_latent"].groupby(level="adcode").mean().loc[units].to_numpy()
    score = (z0 - z0.mean()) / z0.std()
    a, b = POLICY["logit"]
    ever = rng.random(len(units)) < 1 / (1 + np.exp(-(a + b * score)))
    cohort = rng.choice(POLICY["cohorts"], size=len(units))
    first = np.where(ever, cohort, 0)
    W = queen_w(units)
    A = np.eye(len(units)) - PARAMS["rho_y"] * W
    rows = []
    for year in years:
        d = ((first > 0) & (first <= year)).astype(float)
        shift = np.linalg.solve(A, POLICY["beta_D"] * d + POLICY["theta_D"] * (W @ d))
        y = t.loc[year].loc[units, "ln_gtfp"].to_numpy() + shift
        rows.append(pd.DataFrame({"adcode": units, "year": year, "pilot": d.astype(int),
                                  "pilot_year": [str(f) if f else "" for f in first],
                                  "ln_gtfp_pilot": np.round(y, 6)}))
    return pd.concat(rows, ignore_index=True)


def policy_truth() -> dict[str, float]:
    """True average direct, indirect and total effects of the SYNTHETIC pilot (step 6):
    :math:`S = (I - \\rho_y W)^{-1}(\\beta_D I + \\theta_D W)`, direct = tr(S)/n, total =
    1'S1/n, on the DGP's W (islands have zero rows, so the total is not (beta + theta)/(1 - rho))."""
    from spatialinno.cities import registry

    units = registry()["adcode"].tolist()
    W = queen_w(units)
    n = len(units)
    S = np.linalg.solve(np.eye(n) - PARAMS["rho_y"] * W,
                        POLICY["beta_D"] * np.eye(n) + POLICY["theta_D"] * W)
    direct, total = float(np.trace(S) / n), float(S.sum() / n)
    return {"direct": direct, "indirect": total - direct, "total": total}


def main() -> None:
    here = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description="Generate the SYNTHETIC demo panel.")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--out", type=Path, default=here)
    args = ap.parse_args()
    panel, truth = generate(args.seed)
    panel.to_csv(args.out / "demo_panel_SYNTHETIC.csv", index=False, lineterminator="\n")
    truth.to_csv(args.out / "demo_truth_SYNTHETIC.csv", index=False, lineterminator="\n",
                 float_format="%.10g")
    policy = generate_policy(truth, args.seed)
    policy.to_csv(args.out / "demo_policy_SYNTHETIC.csv", index=False, lineterminator="\n")
    print(f"demo panel: {len(panel)} rows, {panel['code'].nunique()} codes, years "
          f"{panel['year'].min()}-{panel['year'].max()} (SYNTHETIC)")


if __name__ == "__main__":
    main()
