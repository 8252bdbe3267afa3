"""What every capability of the engine shares, and nothing else.

The error vocabulary of outside calls (:mod:`.errors`) and the one JSON
client of the package indexes and OSV (:mod:`.json_client`), the backoff
policy of every retry (:mod:`.backoff`), secret masking of text that leaves
the product (:mod:`.masking`), Markdown safety for text written to GitHub
(:mod:`.markdown`: @mentions defused, code fences nothing can close), and
where the engine's data files live (:mod:`.datafiles`). It imports no other
capability, so any of them may import it.
"""
