"""Airflow DAGs for the anxin (安薪云) jobs -- an example to adapt.

Copy this file into the Airflow ``dags/`` folder and set the paths below.
The tasks run the job scripts in anxin's own virtualenv with a
``BashOperator``, so Airflow's environment needs neither anxin nor its
dependencies, and anxin does not depend on Airflow. Works with Airflow 2.7+
and 3.x. Without Airflow installed the file only defines the commands.

* ``anxin_monthly_scoring`` -- 06:00 Beijing time on the 5th: scores the
  previous month (``--as-of previous-month``; a late delivery fails with exit
  2 instead of re-scoring an old month). Re-running a month (clearing the
  task) is safe.
* ``anxin_quarterly_retrain`` -- retrains, registers the challenger and runs
  the promotion rule; a refused promotion is a success (exit 0).

Exit codes: 0 ok, 1 failure (retried), 2 bad config or data broke the
contract (fix the input, then clear the task). See ``docs/operations.md``.
The job's one-line JSON summary (stdout) is pushed to XCom.
"""

from __future__ import annotations

import datetime as dt

ANXIN_ROOT = "/srv/anxin"  # checkout with pipelines/
ANXIN_PYTHON = f"{ANXIN_ROOT}/.venv/bin/python"  # virtualenv where anxin is installed
ANXIN_CONFIG = "/etc/anxin/anxin.toml"
ANXIN_ENV = {"ANXIN_HOME": f"{ANXIN_ROOT}/.anxin"}  # add MLFLOW_TRACKING_URI here

SCORE_CMD = (
    "cd {root} && {python} pipelines/monthly_scoring.py --config {config} "
    "--as-of previous-month -q"
)
RETRAIN_CMD = "cd {root} && {python} pipelines/retrain.py --config {config} -q"

DEFAULT_ARGS = {
    "owner": "anxin",
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=30),
    "execution_timeout": dt.timedelta(hours=2),
}

try:  # Airflow is optional: this file must import without it
    import pendulum
    from airflow import DAG

    try:  # Airflow 3
        from airflow.providers.standard.operators.bash import BashOperator
    except ImportError:  # Airflow 2
        from airflow.operators.bash import BashOperator
    HAVE_AIRFLOW = True
except ImportError:
    HAVE_AIRFLOW = False


def _command(template: str) -> str:
    return template.format(root=ANXIN_ROOT, python=ANXIN_PYTHON, config=ANXIN_CONFIG)


if HAVE_AIRFLOW:
    tz = pendulum.timezone("Asia/Shanghai")

    with DAG(
        dag_id="anxin_monthly_scoring",
        description="安薪云 monthly wage-arrears scoring (预警)",
        schedule="0 6 5 * *",
        start_date=pendulum.datetime(2026, 1, 1, tz=tz),
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["anxin"],
        doc_md=__doc__,
    ) as scoring_dag:
        BashOperator(
            task_id="score_previous_month",
            bash_command=_command(SCORE_CMD),
            env=ANXIN_ENV,
            append_env=True,
            do_xcom_push=True,
        )

    with DAG(
        dag_id="anxin_quarterly_retrain",
        description="安薪云 retraining and champion/challenger promotion",
        schedule="0 3 10 1,4,7,10 *",
        start_date=pendulum.datetime(2026, 1, 1, tz=tz),
        catchup=False,
        max_active_runs=1,
        default_args={**DEFAULT_ARGS, "retries": 1},
        tags=["anxin"],
        doc_md=__doc__,
    ) as retrain_dag:
        BashOperator(
            task_id="retrain_and_promote",
            bash_command=_command(RETRAIN_CMD),
            env=ANXIN_ENV,
            append_env=True,
            do_xcom_push=True,
        )
