"""Scheduled scans: dependency updates, security, licences, dead code, regressions.

Declared dependencies and their manifests (:mod:`.dependencies`,
:mod:`.manifests`, :mod:`.npm_semver`), updates from the package indexes
(:mod:`.package_index`) and the pull requests that propose them
(:mod:`.update_prs`), vulnerabilities from OSV and from scanner reports
uploaded as artifacts (:mod:`.osv`, :mod:`.reports`, :mod:`.artifacts`,
:mod:`.findings`, :mod:`.security_issues`), licence verdicts
(:mod:`.licenses`), dead code (:mod:`.deadcode`), performance regressions
(:mod:`.regression`), how results become stored findings
(:mod:`.records`), and one call per scheduled scan (:mod:`.scheduled`).
"""
