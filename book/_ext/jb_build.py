"""``jupyter-book`` with its chapters read, and so executed, on several cores.

Jupyter Book 1's command line always builds with one Sphinx job, so the notebooks execute one
after another. Sphinx itself can read documents in parallel processes, which for this book means
executing two chapters at once on the 2-core machine. This wrapper runs the ordinary
``jupyter-book`` command line with ``BOOK_JOBS`` Sphinx jobs (default: the number of cores, at
most 4):

    python book/_ext/jb_build.py build --all -W -n --keep-going .

The book's own extension ``parallel_safe`` (below, loaded through ``_config.yml``) declares three
of Jupyter Book's bundled extensions parallel-safe; they do not say so themselves, and Sphinx
would otherwise warn (failing ``-W``) and read serially. Each only acts after reading (section
numbering, copying MathJax, LaTeX output).
"""

import functools
import os
import sys

import jupyter_book.cli.main as cli
import jupyter_book.sphinx as jb_sphinx

JOBS = int(os.environ.get("BOOK_JOBS", min(4, os.cpu_count() or 1)))


def main():
    # The command imports build_sphinx from jupyter_book.sphinx when it runs: patch it there.
    jb_sphinx.build_sphinx = functools.partial(jb_sphinx.build_sphinx, jobs=JOBS)
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
