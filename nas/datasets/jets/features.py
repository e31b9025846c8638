r"""The 16 jet-substructure features of the hls4ml jet dataset (OpenML 42468), defined.

Names, order and definitions follow the reference dataset (Coleman et al., "The importance
of calorimetry for highly-boosted jet tagging", arXiv:1709.08705; Duarte et al., "Fast
inference of deep neural networks in FPGAs for particle physics", arXiv:1804.06913), so
generated and reference data are interchangeable column for column.

Conventions (fjcontrib ``EnergyCorrelator`` default measure ``pt_R``): for constituents i of
a jet, :math:`z_i = p_{T,i} / \sum_k p_{T,k}` and :math:`\theta_{ij} = \Delta R_{ij}`
(rapidity-azimuth distance, not divided by R). The normalised correlators are

* :math:`e_2^{(\beta)} = \sum_{i<j} z_i z_j \theta_{ij}^\beta`
* :math:`e_3^{(\beta)} = \sum_{i<j<k} z_i z_j z_k (\theta_{ij}\theta_{ik}\theta_{jk})^\beta`
* generalized (Moult, Necib, Thaler, arXiv:1609.07483):
  :math:`{}_v e_3^{(\beta)} = \sum_{i<j<k} z_i z_j z_k \prod_{m=1}^{v} \min^{(m)}\{\theta_{ij}^\beta,
  \theta_{ik}^\beta, \theta_{jk}^\beta\}` (product of the v smallest pairwise angles),
  and :math:`{}_1e_2^{(\beta)} = e_2^{(\beta)}`.

"_mmdt" features are computed on the jet groomed by the modified mass-drop tagger (mMDT,
Dasgupta, Fregoso, Marzani, Salam, arXiv:1307.0007; fjcontrib ``ModifiedMassDropTagger``):
recluster with Cambridge/Aachen, undo the last merging, keep it if
:math:`\min(p_{T1},p_{T2})/(p_{T1}+p_{T2}) > z_{cut} = 0.1`, else follow the harder branch.

===================  ===========================================================  ==============
column               definition                                                   source
===================  ===========================================================  ==============
zlogz                :math:`\sum_i z_i \ln z_i` over the ungroomed constituents   1709.08705
c1_b0_mmdt           :math:`C_1^{(0)} = e_2^{(0)}`                                 Larkoski-Salam-Thaler 1305.0007
c1_b1_mmdt           :math:`C_1^{(1)} = e_2^{(1)}`                                 1305.0007
c1_b2_mmdt           :math:`C_1^{(2)} = e_2^{(2)}` (~ m^2/pT^2)                    1305.0007
c2_b1_mmdt           :math:`C_2^{(1)} = e_3^{(1)}/(e_2^{(1)})^2`                   1305.0007
c2_b2_mmdt           :math:`C_2^{(2)} = e_3^{(2)}/(e_2^{(2)})^2`                   1305.0007
d2_b1_mmdt           :math:`D_2^{(1)} = e_3^{(1)}/(e_2^{(1)})^3`                   Larkoski-Moult-Neill 1409.6298
d2_b2_mmdt           :math:`D_2^{(2)} = e_3^{(2)}/(e_2^{(2)})^3`                   1409.6298
d2_a1_b1_mmdt        :math:`D_2^{(1,1)} = e_3^{(1)}/(e_2^{(1)})^{3}` (equals d2_b1)  1409.6298
d2_a1_b2_mmdt        :math:`D_2^{(1,2)} = e_3^{(1)}/(e_2^{(2)})^{3/2}`             1409.6298
m2_b1_mmdt           :math:`M_2^{(1)} = {}_1e_3^{(1)}/{}_1e_2^{(1)}`               1609.07483
m2_b2_mmdt           :math:`M_2^{(2)} = {}_1e_3^{(2)}/{}_1e_2^{(2)}`               1609.07483
n2_b1_mmdt           :math:`N_2^{(1)} = {}_2e_3^{(1)}/({}_1e_2^{(1)})^2`           1609.07483
n2_b2_mmdt           :math:`N_2^{(2)} = {}_2e_3^{(2)}/({}_1e_2^{(2)})^2`           1609.07483
mass_mmdt            invariant mass of the mMDT-groomed jet [GeV]                 1307.0007
multiplicity         number of constituents of the ungroomed jet                  1709.08705
===================  ===========================================================  ==============

:math:`D_2^{(\alpha,\beta)} = e_3^{(\alpha)}/(e_2^{(\beta)})^{3\alpha/\beta}`, so
``d2_a1_b1_mmdt`` is identical to ``d2_b1_mmdt`` by definition; the reference dataset has
the same duplicate column. A jet whose mMDT grooming finds no split (fewer than two groomed
constituents) has undefined ratios and is rejected by the generator (counted, not imputed).
"""

from __future__ import annotations

import numpy as np

FEATURE_NAMES: tuple[str, ...] = (
    "zlogz", "c1_b0_mmdt", "c1_b1_mmdt", "c1_b2_mmdt", "c2_b1_mmdt", "c2_b2_mmdt",
    "d2_b1_mmdt", "d2_b2_mmdt", "d2_a1_b1_mmdt", "d2_a1_b2_mmdt", "m2_b1_mmdt", "m2_b2_mmdt",
    "n2_b1_mmdt", "n2_b2_mmdt", "mass_mmdt", "multiplicity",
)
#: label values of the ``class`` column, in the order of the integer class indices
CLASS_NAMES: tuple[str, ...] = ("g", "q", "t", "w", "z")
LABEL_COLUMN = "class"
#: kinematics the helper returns before the features (kept in generated files for checks)
KINEMATIC_NAMES: tuple[str, ...] = ("jet_pt", "jet_eta", "jet_phi", "jet_mass")

MMDT_ZCUT = 0.1


def jet_features_from_constituents(p4: np.ndarray, zcut: float = MMDT_ZCUT) -> dict[str, float]:
    """The 16 features (plus jet kinematics) of one jet given its constituents' (px, py, pz, E).

    Calls the same compiled fjcontrib code the generator uses; meant for checks and for users
    who want features of their own jets.
    """
    from ._native import constituent_row
    row = constituent_row(np.asarray(p4, dtype=np.float64).reshape(-1, 4), zcut)
    return dict(zip(KINEMATIC_NAMES + FEATURE_NAMES, (float(v) for v in row)))
