"""企业查询 / 模糊查询 (004 篇10): the lookup dialogue, one file per step."""
