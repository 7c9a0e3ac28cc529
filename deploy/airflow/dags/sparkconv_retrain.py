"""Daily retraining of a sparkconv model, with promotion only when the new version is better.

    wait_for_data -> preprocess -> train -> evaluate -> promote -> score

* wait_for_data  WebHdfsSensor: the day's partition ``{data}/date={ds}/_SUCCESS`` exists (upstream writes it last).
* preprocess     spark-submit ``sparkconv preprocess``: IDX files of the day -> shards in HDFS.
* train          spark-submit ``sparkconv train``: parameter averaging; publishes version ``v{ds_nodash}`` to the store.
* evaluate       spark-submit ``sparkconv evaluate``: test metrics of the new version -> metrics JSON in HDFS.
* promote        ``sparkconv models promote --if-better METRIC``: moves the model's ``best`` pointer to the new
                 version only if it beats the current best. Exit 0 = promoted, 3 = not better (the task is then
                 *skipped*, not failed), anything else fails.
* score          spark-submit ``sparkconv score`` with the model's ``best`` version on the day's archive partition;
                 runs whether or not the new version was promoted (trigger rule none_failed).

Deploy: copy this file into the scheduler's ``dags/`` folder; install ``apache-airflow-providers-apache-spark`` and
``apache-airflow-providers-apache-hdfs``; install sparkconv (the repository with ``jobs/target/sparkconv-*.jar`` and
``conf/``) on the workers at the path in the Airflow Variable ``sparkconv_home`` (default /opt/sparkconv).

Connections:
* ``spark_sparkconv`` (type Spark): host ``spark://master:7077``, ``yarn`` or ``k8s://https://api:6443``;
  extra ``{"deploy-mode": "cluster", "spark-binary": "spark-submit", "namespace": "ml"}`` as the cluster needs.
  YARN: host ``yarn``, extra ``{"deploy-mode": "cluster", "queue": "<queue>"}``; the worker's environment has
  ``HADOOP_CONF_DIR`` and ``YARN_CONF_DIR`` (core-site, hdfs-site, yarn-site of the cluster) and the spark-submit's
  ``spark-defaults.conf`` sets ``spark.yarn.jars`` (Spark's jars uploaded once to HDFS). In cluster mode a job's
  non-zero exit is a FAILED application (the task fails; its log names the application): see docs/deploying.md.
  Kerberos (a kerberized YARN and HDFS): the Airflow Variables ``sparkconv_principal`` and ``sparkconv_keytab`` (a
  keytab file on every worker, readable only by the worker's user) go to every spark-submit as ``--principal`` /
  ``--keytab`` (Spark then obtains and renews the delegation tokens) and to ``promote`` as ``SPARKCONV_PRINCIPAL`` /
  ``SPARKCONV_KEYTAB``; unset, the workers need a ticket (kinit). ``KRB5_CONFIG`` in a worker's environment names a
  krb5.conf other than /etc/krb5.conf. See docs/deploying.md, "Kerberos".
* ``webhdfs_default`` (type HDFS / WebHDFS): the NameNode's HTTP address (e.g. host ``namenode``, port 9870).

Params (Trigger DAG w/ config overrides them): ``data``, ``store``, ``work``, ``archive``, ``scores``, ``name``, ``model``,
``epochs``, ``metric``.
"""
from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.models import Variable
from airflow.models.param import Param
from airflow.operators.bash import BashOperator
from airflow.providers.apache.hdfs.sensors.web_hdfs import WebHdfsSensor
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

SPARKCONV_HOME = Variable.get("sparkconv_home", default_var="/opt/sparkconv")
SPARK_CONN = "spark_sparkconv"
# Kerberos: "" = none (a ticket from kinit, or a cluster without Kerberos); SparkSubmitHook passes only non-empty ones
PRINCIPAL = Variable.get("sparkconv_principal", default_var="")
KEYTAB = Variable.get("sparkconv_keytab", default_var="")
NOT_BETTER_EXIT_CODE = 3  # `sparkconv models promote --if-better`: kept the current best


def jvm_flags(home: str) -> str:
    """The one JVM-flag list, conf/jvm.properties (a key with backslash-continued lines), for driver and executors."""
    path = os.path.join(home, "conf", "jvm.properties")
    if not os.path.exists(path):
        return ""  # the DAG must still load where sparkconv is not installed (the scheduler); tasks run on workers
    flags, in_value = [], False
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("jvm.flags="):
                in_value, line = True, line[len("jvm.flags="):]
            if in_value:
                flags.append(line.rstrip("\\").strip())
                in_value = line.endswith("\\")
    return " ".join(flag for flag in flags if flag)


FLAGS = jvm_flags(SPARKCONV_HOME)
JAR = f"{SPARKCONV_HOME}/jobs/target/sparkconv-0.1.0.jar"
SPARK_CONF = {
    "spark.driver.extraJavaOptions": FLAGS,
    "spark.executor.extraJavaOptions": FLAGS,
    "spark.serializer": "org.apache.spark.serializer.KryoSerializer",
    "spark.kryo.registrator": "sparkconv.spark.KryoRegistrator",
    "spark.executorEnv.OMP_NUM_THREADS": "1",
    # glibc returns freed ND4J buffers instead of keeping them in its arenas (docs/memory.md)
    "spark.executorEnv.MALLOC_MMAP_THRESHOLD_": "8388608",
    "spark.executorEnv.MALLOC_TRIM_THRESHOLD_": "134217728",
    # ND4J allocates off-heap up to -Dorg.bytedeco.javacpp.maxbytes (3G in conf/jvm.properties)
    "spark.executor.memoryOverhead": "4g",
    "spark.yarn.appMasterEnv.OMP_NUM_THREADS": "1",
    "spark.yarn.appMasterEnv.MALLOC_MMAP_THRESHOLD_": "8388608",
    "spark.yarn.appMasterEnv.MALLOC_TRIM_THRESHOLD_": "134217728",
    # one YARN attempt per try: Airflow's retries re-submit (as deploy/submit does)
    "spark.yarn.maxAppAttempts": "1",
    "spark.kubernetes.driverEnv.OMP_NUM_THREADS": "1",
    "spark.kubernetes.driverEnv.MALLOC_MMAP_THRESHOLD_": "8388608",
    "spark.kubernetes.driverEnv.MALLOC_TRIM_THRESHOLD_": "134217728",
}
VERSION = "v{{ ds_nodash }}"
SHARDS = "{{ params.work }}/shards/date={{ ds }}"


def sparkconv_job(task_id: str, *args: str, **kwargs) -> SparkSubmitOperator:
    """One sparkconv command as a spark-submit of the shaded jar with the shared configuration."""
    return SparkSubmitOperator(
        task_id=task_id,
        conn_id=SPARK_CONN,
        application=JAR,
        java_class="sparkconv.cli.Main",
        name=f"sparkconv-{task_id}-{{{{ ds_nodash }}}}",
        application_args=[task_id, *args],  # the task id is the sparkconv command
        conf=SPARK_CONF,
        driver_memory="4g",
        executor_memory="2g",
        executor_cores=1,
        num_executors=4,
        env_vars={"OMP_NUM_THREADS": "1", "MALLOC_MMAP_THRESHOLD_": "8388608", "MALLOC_TRIM_THRESHOLD_": "134217728"},
        principal=PRINCIPAL,
        keytab=KEYTAB,
        **kwargs,
    )


with DAG(
    dag_id="sparkconv_retrain",
    description="Daily retraining: new data -> preprocess -> train -> evaluate -> promote if better -> score",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # promotions of one model must not interleave
    default_args={
        "owner": "ml-platform",
        "retries": 2,
        "retry_delay": timedelta(minutes=10),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(hours=6),
    },
    params={
        "data": Param("hdfs:///data/fashion-mnist/incoming", type="string", description="daily IDX partitions, date=YYYY-MM-DD"),
        "store": Param("hdfs:///sparkconv/store", type="string", description="model store root"),
        "work": Param("hdfs:///sparkconv/work", type="string", description="shards and evaluations of each run"),
        "archive": Param("hdfs:///data/fashion-mnist/archive", type="string", description="images to score, date=YYYY-MM-DD"),
        "scores": Param("hdfs:///sparkconv/scores", type="string", description="Parquet scores, date=YYYY-MM-DD"),
        "name": Param("fashion-mnist-lenet5", type="string", description="model name in the store"),
        "model": Param("lenet5", type="string", description="model from the zoo"),
        "epochs": Param(10, type="integer", minimum=1),
        "metric": Param("accuracy", type="string", description="test metric deciding promotion (higher is better)"),
    },
    tags=["sparkconv", "training"],
) as dag:
    wait_for_data = WebHdfsSensor(
        task_id="wait_for_data",
        webhdfs_conn_id="webhdfs_default",
        filepath="{{ params.data }}/date={{ ds }}/_SUCCESS",
        poke_interval=300,
        timeout=int(timedelta(hours=12).total_seconds()),
        mode="reschedule",  # frees the worker slot between pokes
    )

    preprocess = sparkconv_job(
        "preprocess",
        "--data", "{{ params.data }}/date={{ ds }}",
        "--out", SHARDS,
        "--overwrite",
    )

    train = sparkconv_job(
        "train",
        "--shards", SHARDS,
        "--store", "{{ params.store }}",
        "--name", "{{ params.name }}",
        "--version", VERSION,
        "--model", "{{ params.model }}",
        "--epochs", "{{ params.epochs }}",
    )

    evaluate = sparkconv_job(
        "evaluate",
        "--shards", SHARDS,
        "--store", "{{ params.store }}",
        "--name", "{{ params.name }}",
        "--version", VERSION,
        "--out", "{{ params.work }}/evaluations/{{ params.name }}-" + VERSION + ".json",
    )

    promote = BashOperator(
        task_id="promote",
        bash_command=(
            f"{SPARKCONV_HOME}/sparkconv models promote --store '{{{{ params.store }}}}' --name '{{{{ params.name }}}}' "
            f"--version {VERSION} --if-better '{{{{ params.metric }}}}'"
        ),
        env={"OMP_NUM_THREADS": "1", "SPARKCONV_JAVA_OPTS": "-Xmx2g", "SPARKCONV_PRINCIPAL": PRINCIPAL, "SPARKCONV_KEYTAB": KEYTAB},
        append_env=True,
        skip_on_exit_code=NOT_BETTER_EXIT_CODE,
    )

    score = sparkconv_job(
        "score",
        "--model", "{{ params.name }}:best",
        "--store", "{{ params.store }}",
        "--input", "{{ params.archive }}/date={{ ds }}",
        "--out", "{{ params.scores }}/date={{ ds }}",
        "--overwrite",
        trigger_rule="none_failed",  # score with the best model whether or not today's version was promoted
    )

    wait_for_data >> preprocess >> train >> evaluate >> promote >> score
