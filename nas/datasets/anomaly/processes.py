"""The physics processes of the anomaly-detection sample: the SM mixture and four signals.

Modelled on the LHC Olympics anomaly-detection data challenge (ADC2021, Govorkova et al.,
Sci. Data 9 (2022) 118), made here with Pythia 8 alone (pp at 13 TeV, Monash tune):

Background: a mixture with ADC2021's process fractions (after its single-lepton filter),
W 59.2 %, QCD multijet 33.8 %, Z 6.7 %, ttbar 0.3 %:

* ``w``:   W -> l nu (l = e, mu, tau; Pythia's qqbar' -> W, jets from the shower);
* ``z``:   Z/gamma* -> l l (l = e, mu, tau; m(ll) > 50 GeV);
* ``ttbar``: gg, qqbar -> t tbar, all decays;
* ``qcd``: 2 -> 2 QCD, pTHat > 30 GeV.

The W, Z and ttbar events must have an L1 e/gamma or muon candidate with pT > 23 GeV (ADC2021's
filter, applied here to the L1 objects after the detector response). QCD is NOT filtered:
measured with this generator, 0.3 % of pTHat > 30 GeV QCD events have a lepton above 23 GeV,
so the filter would cost ~300 generated events per kept one, beyond this project's CPU. The QCD
part is therefore a lepton-poor multijet sample, and the mixture is a stand-in for what L1 sees,
not minimum bias.

Signals (ADC2021's masses), NOT filtered, so a signal efficiency is per produced event:

* ``A4l``:  gg -> H2 (a neutral scalar, 50 GeV) -> Z* Z* -> 4 l (l = e, mu);
* ``LQbtau``: pair-produced scalar leptoquark (80 GeV, charge 2/3) -> b tau each;
* ``h0tautau``: gg -> h (60 GeV) -> tau tau;
* ``hpmtaunu``: f fbar' -> H+- (60 GeV) -> tau nu.

Multiparton interactions are OFF (``PartonLevel:MPI = off``) in every process: measured here,
they make W events 4.6x slower (56 vs 241 events/s on one core) and the sample would not fit
the time available. Without MPI (and without pile-up) the underlying event is softer than at
the LHC, which lowers jet multiplicity and MET in every process alike.
"""

from __future__ import annotations

COMMON_SETTINGS: tuple[str, ...] = (
    "Beams:eCM = 13000.",
    "PartonLevel:MPI = off",
    "ParticleDecays:limitTau0 = on",
    "ParticleDecays:tau0Max = 10.",
    "Print:quiet = on",
    "Next:numberCount = 0",
    "Random:setSeed = on",
)

PROCESS_SETTINGS: dict[str, tuple[str, ...]] = {
    "w": ("WeakSingleBoson:ffbar2W = on", "24:onMode = off", "24:onIfAny = 11 13 15"),
    "qcd": ("HardQCD:all = on", "PhaseSpace:pTHatMin = 30."),
    "z": ("WeakSingleBoson:ffbar2gmZ = on", "PhaseSpace:mHatMin = 50.", "23:onMode = off",
          "23:onIfAny = 11 13 15"),
    "ttbar": ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on"),
    "A4l": ("Higgs:useBSM = on", "HiggsBSM:gg2H2 = on", "35:m0 = 50.", "35:mWidth = 0.01",
            "35:onMode = off", "35:onIfMatch = 23 23", "23:onMode = off", "23:onIfAny = 11 13"),
    "LQbtau": ("LeptoQuark:gg2LQLQbar = on", "LeptoQuark:qqbar2LQLQbar = on", "42:m0 = 80.",
               "42:chargeType = 2", "42:0:products = 5 -15"),
    "h0tautau": ("HiggsSM:gg2H = on", "25:m0 = 60.", "25:onMode = off", "25:onIfMatch = 15 -15"),
    "hpmtaunu": ("Higgs:useBSM = on", "HiggsBSM:ffbar2H+- = on", "37:m0 = 60.", "37:onMode = off",
                 "37:onIfMatch = 15 16"),
}

#: SM mixture fractions (ADC2021, after its filter); the sample has round(n * f) events of each
BACKGROUND_FRACTIONS: dict[str, float] = {"w": 0.592, "qcd": 0.338, "z": 0.067, "ttbar": 0.003}
SIGNALS: tuple[str, ...] = ("A4l", "LQbtau", "h0tautau", "hpmtaunu")
PROCESSES: tuple[str, ...] = tuple(BACKGROUND_FRACTIONS) + SIGNALS
#: processes that must have an L1 e/gamma or muon above FILTER_PT_GEV
FILTERED: frozenset[str] = frozenset({"w", "z", "ttbar"})
FILTER_PT_GEV = 23.0


def pythia_settings(process: str, seed: int) -> list[str]:
    """Every readString line for a chunk of ``process`` (recorded in the sidecar JSON)."""
    return list(COMMON_SETTINGS) + [f"Random:seed = {seed}"] + list(PROCESS_SETTINGS[process])


def background_counts(n_background: int) -> dict[str, int]:
    """Events per SM process for ``n_background`` in total: floor(n f), remainder to the largest."""
    counts = {p: int(n_background * f) for p, f in BACKGROUND_FRACTIONS.items()}
    counts["w"] += n_background - sum(counts.values())
    return counts
