"""The yearly cycle after the numbers (issue 12): self-check, publicity, objections with their impact
preview, the final list, run diffs, differentiated-policy lists and result notices.

    store        the cycle's tables (schema 4): windows, self-check answers, objections, evidence
    provenance   what each department reported for a firm, field by field
    whatif       a stored run evaluated again with changed cells, nothing stored (the what-if engine)
    movers       who moved between two results, and why (the preview and ``runs diff``)
    selfcheck    自核 window, answers and the board per unit
    objections   file, preview, decide
    publicity    公示 window and the final run
    diff         ``mujun runs diff``
    policies     差别化政策 of a year: class histories and the rules applying to each firm (catalog/policies.yaml)
    policy_lists ``mujun policy lists``: one xlsx per receiving department, changes since the last generation
    notices      结果告知书: one PDF per firm (``notice_pdf`` for the web app, ``mujun notices``)
"""
