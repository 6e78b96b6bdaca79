"""What a recipe run does, planned in Python and written down for ``se.sh``.

- :mod:`.experiments`: the paper's experiment matrix (``conf/experiments/paper.yaml``): systems,
  tables, labels, where each is scored;
- :mod:`.systems`: a system's training config, layered from ``conf/modes/`` and the recipe's
  ``conf/``, and the systems its initialisation reads;
- :mod:`.teachers`: the teachers a run names (``pretrain``, ``random``, specs) as seslib.teacher specs;
- :mod:`.analysis`: the analysis systems and the seed spread (paper, Secs. 3.4-3.5);
- :mod:`.plan`: the run's plan from its options, written as files under ``exp/plan/`` that each
  stage of ``se.sh`` reads (``python -m seslib.recipe.plan --help``).

Data flow: options -> :func:`.plan.make_plan` -> ``exp/plan/`` -> stages (``seslib.stages``
records each as a stamp) -> ``exp/<system>/`` -> ``RESULTS.md``.
"""
