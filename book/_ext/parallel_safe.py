"""Sphinx extension: declare Jupyter Book's bundled extensions that are silent about it safe for
parallel reading (see ``book/_ext/jb_build.py``). Each of them acts only after the documents are
read: ``sphinx_multitoc_numbering`` renumbers sections once the environment is merged,
``sphinx_mathjax_offline`` copies MathJax into ``_static``, ``sphinx_jupyterbook_latex`` changes
only LaTeX output. sphinx-proof declares itself safe but its domain lacks the merge method
that parallel reading calls; its registry is merged by its own event handler, so the domain's
merge is given as a no-op."""

SAFE = ("sphinx_multitoc_numbering", "sphinx-mathjax-offline", "sphinx_mathjax_offline", "sphinx_jupyterbook_latex")


def _merge_nothing(self, docnames, otherdata):
    """sphinx-proof keeps its registry in ``env.proof_list`` and merges it itself on
    ``env-merge-info``; its domain's own data hold nothing to merge."""


def _declare(app):
    from sphinx_proof.domain import ProofDomain
    from sphinx.domains import Domain
    if ProofDomain.merge_domaindata is Domain.merge_domaindata:
        ProofDomain.merge_domaindata = _merge_nothing
    for name in SAFE:
        ext = app.extensions.get(name)
        if ext is not None and ext.parallel_read_safe is None:
            ext.parallel_read_safe = True
        if ext is not None and ext.parallel_write_safe is None:
            ext.parallel_write_safe = True


def setup(app):
    app.connect("builder-inited", _declare)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
