# Reference values for tests/test_r_reference.py: every model and test the pipeline publishes,
# refitted in R on the frames the pipeline built. Usage: Rscript reference.R <folder>
# <folder>/jobs.csv lists one job a row (id, kind, data, formula); each job's data is <folder>/<data>.
# Writes <folder>/r_results.csv: id, quantity, i, name (R's coefficient name, if any), value (17 significant
# digits; NaN kept as "NaN").
suppressPackageStartupMessages({
  library(MASS); library(sandwich); library(lmtest); library(ordinal); library(coin); library(survey); library(mice); library(nnet)
})
args <- commandArgs(trailingOnly = TRUE)
folder <- args[1]
jobs <- read.csv(file.path(folder, "jobs.csv"), stringsAsFactors = FALSE)
out <- list()
put <- function(id, quantity, values) {
  labels <- if (is.null(names(values))) rep("", length(values)) else names(values)
  values <- as.numeric(values)
  out[[length(out) + 1]] <<- data.frame(id = id, quantity = quantity, i = seq_along(values) - 1, name = labels,
                                        value = sprintf("%.17g", values), stringsAsFactors = FALSE)
}
tight <- glm.control(epsilon = 1e-10, maxit = 200)  # relative change of the deviance (default 1e-8); 1e-12 is below the rounding of large counts
warned <- character()
# Run expr; warnings about non-integer counts (real loans = rate x population) are expected, any other is recorded in `warned`.
quiet <- function(expr) withCallingHandlers(expr, warning = function(w) {
  if (!grepl("non-integer", conditionMessage(w))) warned <<- c(warned, conditionMessage(w))
  invokeRestart("muffleWarning")
})
nb_loglik <- function(y, mu, th) sum(lgamma(th + y) - lgamma(th) - lgamma(y + 1) + th * log(th) +
                                     y * log(mu + (y == 0)) - (th + y) * log(th + mu))
frame <- function(job) {
  d <- read.csv(file.path(folder, job$data), stringsAsFactors = FALSE)
  if ("model" %in% names(d)) d$model <- relevel(factor(d$model), ref = "5")
  if ("kommunegruppe" %in% names(d)) d$kommunegruppe <- factor(d$kommunegruppe)
  if ("merged_2007" %in% names(d)) d$merged_2007 <- as.logical(d$merged_2007)
  d
}
# Profile-likelihood interval of each coefficient in `terms`, theta held at its estimate (as confint on a
# glm.nb fit, which interpolates the profile with a spline; here the ends are roots, found by uniroot).
profile_ci <- function(fit, th, terms, level = 0.95) {
  X <- model.matrix(fit); y <- fit$y; off <- model.offset(model.frame(fit))
  ll <- function(mu) nb_loglik(y, mu, th)
  llmax <- ll(fitted(fit)); crit <- qnorm((1 + level) / 2)^2
  se <- sqrt(diag(vcov(fit)))
  ends <- sapply(terms, function(j) {
    g <- function(b) {
      refit <- suppressWarnings(glm.fit(X[, -j, drop = FALSE], y, family = negative.binomial(th), offset = off + b * X[, j],
                                        start = coef(fit)[-j], control = glm.control(epsilon = 1e-13, maxit = 1000)))
      2 * (llmax - ll(refit$fitted.values)) - crit
    }
    b0 <- coef(fit)[j]
    c(uniroot(g, c(b0 - 6 * se[j], b0), tol = 1e-13)$root, uniroot(g, c(b0, b0 + 6 * se[j]), tol = 1e-13)$root)
  })
  list(low = ends[1, ], high = ends[2, ])
}
# The Cox-Reid dispersion of a negative binomial fit and the intervals notebook 03 reports with it: theta at the
# root of the derivative in log(theta) of the adjusted profile likelihood l(beta_theta, theta) - 1/2 log det(X'WX),
# written out here (the profile score as MASS's theta.ml; the adjustment through the leverages and d beta / d theta),
# with glm.fit for the coefficients at each theta and uniroot for the root; with `check`, also optimize() on the
# adjusted likelihood's values (good to ~1e-5: the values are flat at the top). Then the ML coefficients over their
# model-based standard errors at that theta, t on n - p df.
cox_reid <- function(fit, th_ml, check = FALSE) {
  X <- model.matrix(fit); y <- fit$y; off <- model.offset(model.frame(fit)); if (is.null(off)) off <- 0 * y
  b <- coef(fit)
  at <- function(th) {  # the ML coefficients at theta, IRLS restarted until the score in beta vanishes
    f <- suppressWarnings(glm.fit(X, y, family = negative.binomial(th), offset = off, start = b,
                                  control = glm.control(epsilon = 1e-14, maxit = 1000)))
    for (k in 1:50) {
      mu <- f$fitted.values
      if (max(abs(colSums(X * (y - mu) / (1 + mu / th)))) < 1e-9) break
      f <- suppressWarnings(glm.fit(X, y, family = negative.binomial(th), offset = off, start = coef(f),
                                    control = glm.control(epsilon = 1e-15, maxit = 50)))
    }
    b <<- coef(f)
    f$fitted.values
  }
  grad <- function(lt) {
    th <- exp(lt); mu <- at(th); tm <- th + mu; w <- mu * th / tm
    s <- th * sum(digamma(th + y) - digamma(th) + log(th) + 1 - log(tm) - (y + th) / tm)
    h <- w * rowSums((X %*% solve(crossprod(X, w * X))) * X)
    dbeta <- solve(crossprod(X, (th * mu * (th + y) / tm^2) * X), th * colSums(X * (mu * (y - mu) / tm^2)))
    s - 0.5 * sum(h * (mu / tm + th / tm * drop(X %*% dbeta)))
  }
  apl <- function(lt) {
    th <- exp(lt); mu <- at(th); w <- mu * th / (th + mu)
    nb_loglik(y, mu, th) - 0.5 * as.numeric(determinant(crossprod(X, w * X))$modulus)
  }
  th <- exp(uniroot(grad, log(th_ml) + c(-0.7, 0), tol = 1e-13)$root)  # the adjustment only lowers theta
  mu <- fitted(fit); w <- mu / (1 + mu / th)
  se <- sqrt(diag(solve(crossprod(X, w * X)))); df <- nrow(X) - ncol(X)
  out <- list(theta = th, se = se, df = df, p = 2 * pt(abs(coef(fit) / se), df, lower.tail = FALSE),
              low = coef(fit) - qt(0.975, df) * se, high = coef(fit) + qt(0.975, df) * se)
  if (check) out$theta_optimize <- exp(optimize(apl, log(th_ml) + c(-0.7, 0), maximum = TRUE, tol = 1e-10)$maximum)
  out
}
table_of <- function(d) {
  m <- as.matrix(d[, -1])
  dimnames(m) <- list(a = as.character(d$row), b = as.character(d$row))
  as.table(m)
}

for (r in seq_len(nrow(jobs))) {
  job <- jobs[r, ]
  id <- job$id
  if (job$kind == "negbin") {
    d <- frame(job)
    f <- as.formula(job$formula)
    # glm.nb's result is accepted only when it converged: no warning, finite theta and a zero score in beta
    # (at its default epsilon 1e-8, and even at 1e-10, the score can be ~1e-5). Tried from tight to loose.
    nb_score <- function(fit) { mu <- fitted(fit)
      max(abs(colSums(model.matrix(fit) * (fit$y - mu) / (1 + mu / fit$theta)))) }
    fit <- NULL
    for (eps in c(1e-11, 1e-12, 1e-10)) {
      warned <- character()
      fit <- tryCatch(quiet(glm.nb(f, data = d, control = glm.control(epsilon = eps, maxit = 1000))), error = function(e) NULL)
      if (!is.null(fit) && !length(warned) && fit$theta < 1e8 && nb_score(fit) < 1e-8) break
      fit <- NULL
    }
    if (!is.null(fit)) {
      put(id, "method", 1)  # glm.nb itself
      put(id, "theta", fit$theta)
      put(id, "coef", coef(fit)); put(id, "se", sqrt(diag(vcov(fit))))
      put(id, "p", coef(summary(fit))[, 4]); put(id, "loglik", as.numeric(logLik(fit)))
      th <- fit$theta
    } else {
      # glm.nb fails (theta runs off in its alternation, as on a frame with a zero that is a
      # reporting failure): the same estimator, theta at the root of the profile score (uniroot
      # in log theta), the means refitted by glm at each theta.
      y <- model.response(model.frame(f, d))
      message(id, ": glm.nb fails (", paste(unique(warned), collapse = "; "), "); the root of the profile score instead")
      warned <- character()
      # IRLS (Fisher scoring, linear for this non-canonical link) is slow with that zero: a tighter criterion.
      # Its warnings at the far ends of the root search, and of the null-deviance fit, do not concern the
      # fit used: that one is judged by its score below.
      at <- function(th) suppressWarnings(glm(f, data = d, family = negative.binomial(th), control = glm.control(epsilon = 1e-12, maxit = 1000)))
      score <- function(lt) { th <- exp(lt); mu <- fitted(at(th))
        sum(digamma(th + y) - digamma(th) + log(th) + 1 - log(th + mu) - (y + th) / (mu + th)) }
      th <- exp(uniroot(score, c(log(0.01), log(1e4)), tol = 1e-13)$root)
      fit <- at(th)
      score_beta <- function(fit) { mu <- fitted(fit); max(abs(colSums(model.matrix(fit) * (y - mu) / (1 + mu / th)))) }
      for (k in 1:100) {  # restart IRLS from its solution until the score in beta is zero
        if (score_beta(fit) < 1e-9) break
        fit <- suppressWarnings(glm(f, data = d, family = negative.binomial(th), start = coef(fit),
                                    control = glm.control(epsilon = 1e-15, maxit = 50)))
      }
      if (score_beta(fit) > 1e-9) stop(id, ": the glm at the profile theta is not converged, score ", score_beta(fit))
      s <- summary(fit, dispersion = 1)
      put(id, "method", 2)
      put(id, "theta", th)
      put(id, "coef", coef(fit)); put(id, "se", sqrt(diag(vcov(fit, dispersion = 1))))
      put(id, "p", coef(s)[, 4]); put(id, "loglik", nb_loglik(y, fitted(fit), th))
    }
    if (isTRUE(job$profile == 1)) {
      ci <- profile_ci(fit, th, grep("^model", names(coef(fit))))
      put(id, "profile_low", ci$low); put(id, "profile_high", ci$high)
    }
    cr <- cox_reid(fit, th, check = isTRUE(job$profile == 1))
    put(id, "cr_theta", cr$theta); put(id, "cr_df", cr$df); put(id, "cr_se", cr$se); put(id, "cr_p", cr$p)
    put(id, "cr_low", cr$low); put(id, "cr_high", cr$high)
    if (!is.null(cr$theta_optimize)) put(id, "cr_theta_optimize", cr$theta_optimize)
  } else if (job$kind == "poisson_hc3") {
    d <- frame(job)
    fit <- quiet(glm(as.formula(job$formula), data = d, family = poisson, control = tight))
    v <- vcovHC(fit, type = "HC3")
    ct <- coeftest(fit, vcov. = v)
    y <- fit$y; mu <- fitted(fit)
    put(id, "coef", coef(fit)); put(id, "se", sqrt(diag(v))); put(id, "p", ct[, 4])
    # logLik.glm is -Inf for non-integer counts (dpois); the same sum with lgamma(y + 1)
    put(id, "loglik", sum(y * log(mu) - mu - lgamma(y + 1)))
  } else if (job$kind == "ppml_crv1") {
    # notebook 04's two-way fixed-effects Poisson: glm with the kommune and year effects as dummies and the offset;
    # CRV1 by kommune as pyfixest/fixest compute it: HC0 clustered with G/(G-1) (cadjust), times (N-1)/(N-K) with
    # K not counting the kommune effects nested in the clusters (the frame's column nk); intervals normal (z)
    d <- frame(job)
    d$kommunekode <- factor(d$kommunekode); d$year <- factor(d$year)
    fit <- quiet(glm(as.formula(job$formula), data = d, family = poisson, control = glm.control(epsilon = 1e-14, maxit = 100)))
    terms <- setdiff(names(d), c("loans", "kommunekode", "year", "log_pop", "nk"))
    v <- vcovCL(fit, cluster = ~kommunekode, type = "HC0", cadjust = TRUE) * d$nk[1]
    b <- coef(fit)[terms]; se <- sqrt(diag(v))[terms]
    put(id, "coef", b); put(id, "se", se); put(id, "p", 2 * pnorm(-abs(b / se)))
  } else if (job$kind == "ols_hc3") {
    d <- frame(job)
    fit <- lm(as.formula(job$formula), data = d)
    ct <- coeftest(fit, vcov. = vcovHC(fit, type = "HC3"))
    put(id, "coef", coef(fit)); put(id, "se", ct[, 2]); put(id, "p", ct[, 4])
  } else if (job$kind == "polr") {
    d <- frame(job)
    d$level <- factor(d$level, levels = sort(unique(d$level)), ordered = TRUE)
    x <- setdiff(names(d), "level")
    f <- as.formula(paste("level ~", paste(x, collapse = " + ")))
    fit <- quiet(polr(f, data = d, Hess = TRUE, control = list(reltol = 1e-15, maxit = 10000)))
    warned <- character()  # polr's start (a binary glm) may report fitted probabilities of 0 or 1: not the fit's
    ref <- clm(f, data = d, control = clm.control(gradTol = 1e-12, relTol = 1e-14, maxIter = 1000))
    k <- length(fit$zeta)
    put(id, "coef", coef(fit)); put(id, "cut", fit$zeta); put(id, "loglik", as.numeric(logLik(fit)))
    # standard errors: clm's, from its closed-form Hessian; polr differentiates numerically (~1e-6)
    se <- sqrt(diag(vcov(ref)))
    put(id, "se", se[-(1:k)]); put(id, "cut_se", se[1:k])
    put(id, "polr_se", sqrt(diag(vcov(fit))))
    put(id, "clm_coef", coef(ref)[-(1:k)]); put(id, "clm_cut", coef(ref)[1:k])
  } else if (job$kind == "bowker") {
    t <- table_of(frame(job))
    res <- suppressWarnings(mcnemar.test(t, correct = FALSE))  # Bowker for k > 2; NaN with an empty pair
    x <- t[upper.tri(t)]; y <- t(t)[upper.tri(t)]; keep <- (x + y) > 0
    stat <- sum(((x - y)^2 / (x + y))[keep])
    put(id, "mcnemar_test", c(res$statistic, res$parameter, res$p.value))
    put(id, "informative", c(stat, sum(keep), pchisq(stat, sum(keep), lower.tail = FALSE)))
    put(id, "all_pairs", c(stat, length(x), pchisq(stat, length(x), lower.tail = FALSE)))
  } else if (job$kind == "stuart_maxwell") {
    res <- mh_test(table_of(frame(job)))
    put(id, "test", c(statistic(res), res@statistic@df, pvalue(res)))
  } else if (job$kind == "mcnemar") {
    t <- table_of(frame(job))
    b <- t[1, 2]; c <- t[2, 1]
    chi <- mcnemar.test(t, correct = FALSE)
    put(id, "chisq", c(chi$statistic, chi$parameter, chi$p.value))
    put(id, "exact", c(min(b, c), binom.test(b, b + c, 0.5)$p.value))
  } else if (job$kind == "raking") {
    # one raking step: svydesign on the respondents with their base weights, calibrate(calfun = "raking") to
    # the totals, svymean of the statistics' scores on the calibrated design (its SEs account for the raking)
    d <- read.csv(file.path(folder, job$data))
    units <- d[d$role == "unit", ]; totals <- d[d$role == "total", ]
    xs <- grep("^c[0-9]+$", names(d), value = TRUE); ys <- grep("^y[0-9]+$", names(d), value = TRUE)
    design <- svydesign(ids = ~1, weights = ~base, data = units)
    cal <- calibrate(design, as.formula(paste("~ 0 +", paste(xs, collapse = " + "))), population = unlist(totals[1, xs]),
                     calfun = "raking", epsilon = 1e-13, maxit = 100)
    est <- svymean(as.formula(paste("~", paste(ys, collapse = " + "))), cal)
    put(id, "weights", unname(weights(cal))); put(id, "mean", unname(coef(est))); put(id, "se", unname(SE(est)))
  } else if (job$kind == "mice_fit") {
    # one step of mice.impute.logreg without its random draw: the augmented data and the weighted logit fit
    d <- read.csv(file.path(folder, job$data))
    y <- d$y; x <- as.matrix(d[, -1]); ry <- !is.na(y); n <- length(y)
    aug <- mice:::augment(y, ry, x, !ry)
    extra <- (n + 1):length(aug$y)
    X <- cbind(1, as.matrix(aug$x[aug$ry, ])); fam <- quasibinomial(link = logit); tight <- glm.control(epsilon = 1e-14, maxit = 100)
    fit <- glm.fit(X, aug$y[aug$ry], family = fam, weights = aug$w[aug$ry], control = tight)
    # cov.unscaled comes from the working weights of the last IRLS iteration, i.e. the iterate before the
    # solution (1e-5 off near separation, as in 2014); one restart at the solution puts it there
    fit <- glm.fit(X, aug$y[aug$ry], family = fam, weights = aug$w[aug$ry], start = coef(fit), control = tight)
    put(id, "aug_x", as.vector(t(as.matrix(aug$x[extra, ])))); put(id, "aug_w", aug$w[extra]); put(id, "aug_y", aug$y[extra])
    put(id, "coef", unname(coef(fit))); put(id, "cov", as.vector(summary.glm(fit)$cov.unscaled))
  } else if (job$kind == "multinom_fit") {
    # one step of mice.impute.polyreg without its random draw, five categories: mice:::augment, then
    # nnet::multinom with the augmentation weights, run to convergence from its own start (polyreg stops at
    # maxit = 100); and nnet at the package's coefficients (maxit = 0): its objective and its Hessian there
    d <- read.csv(file.path(folder, job$data))
    ours <- read.csv(file.path(folder, sub("[.]csv$", "_coef.csv", job$data)))$coef
    y <- d$y; x <- as.matrix(d[, -1]); ry <- !is.na(y); n <- length(y)
    aug <- mice:::augment(y, ry, x, !ry)
    extra <- (n + 1):length(aug$y)
    xy <- cbind.data.frame(y = factor(aug$y), x = aug$x)
    fit_at <- function(...) multinom(formula(xy), data = xy[aug$ry, , drop = FALSE], weights = aug$w[aug$ry],
                                     Hess = TRUE, trace = FALSE, MaxNWts = 10000, ...)
    fit <- fit_at(maxit = 10000, reltol = 1e-16, abstol = 0)
    if (fit$convergence != 0) stop(id, ": multinom did not converge")
    q <- ncol(x) + 1
    wts <- c(rep(0, q + 1), as.vector(rbind(0, matrix(ours, nrow = q))))  # per class: nnet's bias (masked), then X
    at <- fit_at(maxit = 0, Wts = wts)
    put(id, "aug_x", as.vector(t(as.matrix(aug$x[extra, ])))); put(id, "aug_w", aug$w[extra]); put(id, "aug_y", aug$y[extra])
    put(id, "coef", as.vector(t(coef(fit)))); put(id, "value", fit$value)
    put(id, "coef_at", as.vector(t(coef(at)))); put(id, "value_at", at$value); put(id, "cov_at", as.vector(solve(at$Hessian)))
  } else if (job$kind == "mice_polyreg") {
    # the chained imputation of the model (1-5) in two rounds: mice with polyreg on both, the covariates as predictors
    d <- read.csv(file.path(folder, job$data))
    for (v in c("a", "b")) d[[v]] <- factor(d[[v]], levels = 1:5)
    d$kommunegruppe <- factor(d$kommunegruppe)
    d$regionsnavn <- factor(d$regionsnavn, levels = sort(unique(d$regionsnavn), method = "radix"))  # Python's order
    s <- eval(parse(text = paste0("list(", job$formula, ")")))
    imp <- mice(d, m = s$m, maxit = s$maxit, method = c("polyreg", "polyreg", "", "", ""), printFlag = FALSE, seed = s$seed)
    if (!is.null(imp$loggedEvents)) stop(id, ": mice logged events (removed predictors?)")
    shares <- lapply(c("a", "b"), function(v) t(sapply(seq_len(s$m), function(j) table(complete(imp, j)[[v]]) / nrow(d))))
    put(id, "qbar", unlist(lapply(shares, colMeans))); put(id, "between", unlist(lapply(shares, function(x) apply(x, 2, var))))
  } else if (job$kind == "prop_test") {
    # the complete-case Wilson score intervals of the shares: prop.test without continuity correction, a share a row
    # (suppressWarnings: prop.test warns that its chi-squared approximation may be off when x or n - x is small)
    d <- read.csv(file.path(folder, job$data))
    ci <- sapply(seq_len(nrow(d)), function(i) suppressWarnings(prop.test(d$x[i], d$n[i], correct = FALSE))$conf.int)
    put(id, "low", ci[1, ]); put(id, "high", ci[2, ])
  } else if (job$kind == "mice_pool") {
    # Rubin's rules with Barnard-Rubin df on completed data sets (.imp 0 = the data with gaps)
    d <- read.csv(file.path(folder, job$data), check.names = FALSE)
    d$unit <- d$.id  # as.mids needs a second column
    p <- pool(with(as.mids(d), lm(y ~ 1)))$pooled
    put(id, "pooled", c(p$estimate, p$ubar, p$b, p$t, p$df, p$riv, p$fmi))
  } else if (job$kind == "mice_logreg") {
    # the chained imputation of cooperation yes/no in two rounds: mice with logreg on both, the covariates as predictors
    d <- read.csv(file.path(folder, job$data))
    for (v in c("coop_a", "coop_b")) d[[v]] <- factor(d[[v]], levels = c(0, 1))
    d$kommunegruppe <- factor(d$kommunegruppe)
    d$regionsnavn <- factor(d$regionsnavn, levels = sort(unique(d$regionsnavn), method = "radix"))  # Python's order
    s <- eval(parse(text = paste0("list(", job$formula, ")")))
    imp <- mice(d, m = s$m, maxit = s$maxit, method = c("logreg", "logreg", "", "", ""), printFlag = FALSE, seed = s$seed)
    if (!is.null(imp$loggedEvents)) stop(id, ": mice logged events (removed predictors?)")
    frac <- c(rowMeans(imp$imp$coop_a == "1"), rowMeans(imp$imp$coop_b == "1"))
    pa <- pool(with(imp, lm(as.numeric(coop_a == "1") ~ 1)))$pooled
    pb <- pool(with(imp, lm(as.numeric(coop_b == "1") ~ 1)))$pooled
    put(id, "frac", unname(frac)); put(id, "qbar", c(pa$estimate, pb$estimate)); put(id, "between", c(pa$b, pb$b))
  } else {
    stop("unknown job kind ", job$kind)
  }
  if (length(warned)) stop(id, ": R warned: ", paste(unique(warned), collapse = "; "))
}
res <- do.call(rbind, out)
tmp <- file.path(folder, "r_results.csv.tmp")
write.csv(res, tmp, row.names = FALSE)
invisible(file.rename(tmp, file.path(folder, "r_results.csv")))
