"""Code review of pull requests: architecture rules, Claude, and gated auto-fixes.

Deterministic architecture checks whose rule packs are data files
(:mod:`.architecture`), the AI review with Claude and which of its answers
are accepted (:mod:`.ai_review`), unified diffs parsed and applied strictly
(:mod:`.patches`), what is read from and written back to the pull request
(:mod:`.pr_feedback`), and the confidence-gated auto-fix pull requests
(:mod:`.autofix`).
"""
