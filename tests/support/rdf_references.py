"""Reference canonicalisers the RDFC tests compare the engine with (tests/credentials)."""

import pyoxigraph


def oxigraph_rdfc(nquads: str) -> str:
    """oxigraph's RDFC-1.0 of the quads, written one a line in code point order."""
    dataset = pyoxigraph.Dataset(pyoxigraph.parse(nquads, format=pyoxigraph.RdfFormat.N_QUADS))
    dataset.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
    written = pyoxigraph.serialize(dataset, format=pyoxigraph.RdfFormat.N_QUADS).decode()
    return "".join(sorted(line + "\n" for line in written.splitlines()))
