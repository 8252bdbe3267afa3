"""Code review of pull requests: architecture rules, Claude, and gated auto-fixes.

Deterministic architecture checks (:mod:`.architecture` runs them: the
touched addons in :mod:`.addons`, the rule packs, data files, in
:mod:`.rule_packs`, the code of each kind of rule in :mod:`.check_kinds`),
the AI review with Claude and which of its answers are accepted
(:mod:`.ai_review`), unified diffs parsed and applied strictly
(:mod:`.patches`), what is read from and written back to the pull request
(:mod:`.pr_feedback`), and the confidence-gated auto-fix pull requests
(:mod:`.autofix`).
"""
