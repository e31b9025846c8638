"""C++ source of the jet-feature helper, compiled once against the ``fastjet`` wheel.

Kept as a string so the helper ships inside the Python package without extra package data.
The code only wires FastJet and fjcontrib together; every physics definition (anti-kT,
C/A reclustering, mMDT, the energy correlators) is fjcontrib's own, which is what the
reference dataset used. See :mod:`nas.datasets.jets.features` for the definitions.
"""

ABI_VERSION = 1
N_COLUMNS = 20  # pt, eta, phi, m, then the 16 features in FEATURE_NAMES order

SOURCE = r"""
// qnas jet-feature helper: anti-kT jets -> mMDT -> fjcontrib energy correlators.
#include <cmath>
#include <exception>
#include <vector>
#include "fastjet/ClusterSequence.hh"
#include "fastjet/contrib/EnergyCorrelator.hh"
#include "fastjet/contrib/ModifiedMassDropTagger.hh"

using namespace fastjet;
using namespace fastjet::contrib;

static const int N_COLUMNS = 20;

// FastJet prints a banner on first use; the progress bar owns the terminal.
static void quiet() {
  static bool done = false;
  if (!done) { ClusterSequence::set_fastjet_banner_stream(nullptr); done = true; }
}

static void features(const PseudoJet& jet, double zcut, double* row) {
  // ungroomed: multiplicity, zlogz
  std::vector<PseudoJet> cons = jet.constituents();
  double sumpt = 0.0;
  for (const PseudoJet& c : cons) sumpt += c.pt();
  double zlogz = 0.0;
  for (const PseudoJet& c : cons) {
    double z = c.pt() / sumpt;
    if (z > 0) zlogz += z * std::log(z);
  }
  ModifiedMassDropTagger mmdt(zcut);  // scalar_z, no mass drop, follow larger pt, C/A recluster
  PseudoJet g = mmdt(jet);
  row[0] = jet.pt(); row[1] = jet.eta(); row[2] = jet.phi_std(); row[3] = jet.m();
  row[4] = zlogz;
  if (g == 0 || !g.has_constituents() || g.constituents().size() < 2) {
    for (int k = 5; k < N_COLUMNS; ++k) row[k] = NAN;  // grooming found no two-prong split
    row[19] = (double)cons.size();
    return;
  }
  row[5] = EnergyCorrelatorC1(0.0)(g);
  row[6] = EnergyCorrelatorC1(1.0)(g);
  row[7] = EnergyCorrelatorC1(2.0)(g);
  row[8] = EnergyCorrelatorC2(1.0)(g);
  row[9] = EnergyCorrelatorC2(2.0)(g);
  row[10] = EnergyCorrelatorD2(1.0)(g);
  row[11] = EnergyCorrelatorD2(2.0)(g);
  row[12] = EnergyCorrelatorGeneralizedD2(1.0, 1.0)(g);
  row[13] = EnergyCorrelatorGeneralizedD2(1.0, 2.0)(g);
  row[14] = EnergyCorrelatorM2(1.0)(g);
  row[15] = EnergyCorrelatorM2(2.0)(g);
  row[16] = EnergyCorrelatorN2(1.0)(g);
  row[17] = EnergyCorrelatorN2(2.0)(g);
  row[18] = g.m();
  row[19] = (double)cons.size();
}

extern "C" {

int qnas_abi_version() { return 1; }

// Cluster particles (n x 4: px, py, pz, E) with anti-kT(R); for every jet with
// pt_min <= pt <= pt_max and |eta| <= abs_eta_max (hardest first, at most max_jets) write a
// row of N_COLUMNS doubles to out. Returns the number of rows, or -1 on a C++ exception.
int qnas_jet_rows(const double* p4, int n, double R, double pt_min, double pt_max,
                  double abs_eta_max, double zcut, int max_jets, double* out) {
  try {
    quiet();
    std::vector<PseudoJet> particles;
    particles.reserve(n);
    for (int i = 0; i < n; ++i) {
      PseudoJet p(p4[4 * i], p4[4 * i + 1], p4[4 * i + 2], p4[4 * i + 3]);
      p.set_user_index(i);
      particles.push_back(p);
    }
    JetDefinition jet_def(antikt_algorithm, R);
    ClusterSequence cs(particles, jet_def);
    std::vector<PseudoJet> jets = sorted_by_pt(cs.inclusive_jets(pt_min));
    int rows = 0;
    for (const PseudoJet& jet : jets) {
      if (rows >= max_jets) break;
      if (jet.pt() > pt_max || std::fabs(jet.eta()) > abs_eta_max) continue;
      features(jet, zcut, out + rows * N_COLUMNS);
      ++rows;
    }
    return rows;
  } catch (...) {
    return -1;
  }
}

// Features of ONE jet given by its constituents (no clustering: the constituents ARE the jet;
// grooming reclusters them with C/A). Used to check definitions on hand-computable toy jets.
int qnas_jet_from_constituents(const double* p4, int n, double zcut, double* out) {
  try {
    quiet();
    std::vector<PseudoJet> particles;
    for (int i = 0; i < n; ++i)
      particles.push_back(PseudoJet(p4[4 * i], p4[4 * i + 1], p4[4 * i + 2], p4[4 * i + 3]));
    JetDefinition jet_def(antikt_algorithm, 10.0);  // one jet holds every constituent
    ClusterSequence cs(particles, jet_def);
    std::vector<PseudoJet> jets = sorted_by_pt(cs.inclusive_jets(0.0));
    if (jets.size() != 1) return 0;
    features(jets[0], zcut, out);
    return 1;
  } catch (...) {
    return -1;
  }
}

}  // extern "C"
"""
