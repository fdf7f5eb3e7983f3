"""Functional core: one pure numpy function per per-sample quantity.

The bottom layer of samplescope (it imports only numpy). Every module that reports one
of these quantities calls the function here, and reports it under its canonical name.
These functions do **not** validate their inputs (cleanlab's ``_compute_*`` style); the
public wrappers (:mod:`samplescope.uncertainty`, the difficulty measures, the acquisitions,
the scorers) validate once at the boundary and then call them.

Shapes: ``logits``/``p`` ``(N, C)`` (classes last; any leading shape works), stochastic
outputs ``probs`` ``(S, N, C)`` (samples first), labels ``(N,)``; results ``(N,)``
float64. Direction: **higher = more uncertain / harder**, except ``max_prob`` and
``prob_margin`` (higher = more confident). Entropies in nats.

Canonical names and the names they replace (aliases still accepted by the registries,
old dictionary keys and columns are gone):

=======================  ==========================================  =============================
canonical name           formula                                     aliases / old names
=======================  ==========================================  =============================
``softmax``              ``exp(z_c) / Σ_k exp(z_k)``                 ``_softmax`` copies
``log_softmax``          ``z_c - logsumexp(z)``                      ``scipy.special.log_softmax``
``entropy``              ``-Σ_c p_c log p_c`` of one prediction      ``_entropy`` copies; measure
                                                                     ``entropy`` (of the softmax)
``max_prob``             ``max_c p_c`` (MCP)                         confidence, ``MCPTrust``
``least_confidence``     ``1 - max_c p_c``                           acquisition ``least_confidence``
``prob_margin``          ``p_(1) - p_(2)``                           acquisition ``margin`` is its
                                                                     negative (of ``p̄``)
``logit_margin``         ``max_{j≠y} z_j - z_y`` (negative margin)   measure ``margin``,
                                                                     ``_neg_margins``
``label_nll``            ``-log max(p_y, ε)``                         column ``loss`` of p̄, the
                                                                     per-sample part of ``nll``
``predictive_entropy``   ``H[p̄]``                                    ``total``, ``max_entropy``,
                                                                     ``entropy`` (acquisition)
``expected_entropy``     ``mean_s H[p_s]``                           ``aleatoric``
``mutual_information``   ``H[p̄] - mean_s H[p_s]``                    ``epistemic``, ``bald``
``variation_ratio``      ``1 - f_mode / S``                          ``variation_ratios``
``mean_std``             ``mean_c std_s p_{s,c}``                    (unchanged)
``predictive_variance``  ``Σ_c Var_s p_{s,c}``                       ``predictive_trace``
``decompose``            the three entropies above, one dict         keys ``total``, ``aleatoric``,
                                                                     ``epistemic``
=======================  ==========================================  =============================

The difficulty measure ``confidence`` is ``1 - p_y`` (the probability of the *given* label),
a different, label-dependent quantity; it is not an alias of ``max_prob``.

References: Houlsby et al. 2011 (BALD); Gal 2016 (thesis, §3.3.1: variation ratio,
predictive entropy, mutual information); Gal, Islam & Ghahramani 2017 (active learning);
Kampffmeyer et al. 2016 (mean std); Depeweg et al. 2018 (decomposition); Zhou et al. 2022
(predictive variance eq. 7, logit margin); Hendrycks & Gimpel 2017 (max prob).
"""

from .dispersion import mean_std, predictive_variance, variation_ratio
from .entropy import decompose, entropy, expected_entropy, mutual_information, predictive_entropy
from .probs import (
    label_nll,
    least_confidence,
    log_softmax,
    logit_margin,
    max_prob,
    prob_margin,
    softmax,
)

__all__ = [
    "decompose",
    "entropy",
    "expected_entropy",
    "label_nll",
    "least_confidence",
    "log_softmax",
    "logit_margin",
    "max_prob",
    "mean_std",
    "mutual_information",
    "predictive_entropy",
    "predictive_variance",
    "prob_margin",
    "softmax",
    "variation_ratio",
]
