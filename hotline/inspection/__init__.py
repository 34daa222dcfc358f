"""Quality inspection (质检) of recorded calls: a weighted checklist (checklist.py), what the
transcript lets the system pre-check (precheck.py), the monthly sample proposed to the
inspector (sampling.py), the inspection records (repo.py) that form the ledger (巡查记录,
003), and each operator's mean score for a month (scores.py, for the appraisal)."""
