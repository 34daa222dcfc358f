"""The closed loop of a ticket with the handling units (承办单位): 派单 → 签收 (or 退单) →
办理 (延期) → 答复 → 回访 (重办) → 办结, with 催办 and 并单. Pure logic: the store keeps the
tickets and runs these rules (hotline/store/loop_repo.py)."""
