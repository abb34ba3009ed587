"""A pymesos executor, unchanged pymesos 0.3.15 API: its MesosExecutorDriver
speaks Mesos's v1 executor HTTP API (SUBSCRIBE at $MESOS_AGENT_ENDPOINT,
UPDATE, MESSAGE). Each task's `data` is a shell command: the executor runs
it, reports TASK_RUNNING, sends the scheduler a framework message and
waits (up to a minute) for its answer, then TASK_FINISHED (TASK_FAILED if
the command failed). Prints one line per
event on stdout (the sandbox's `stdout`).

    (started by the slave, as a task's ExecutorInfo command)
"""
import subprocess
import threading

from addict import Dict
from pymesos import Executor, MesosExecutorDriver, decode_data, encode_data


class Runner(Executor):
    def __init__(self):
        self.answered = threading.Event()

    def registered(self, driver, executor_info, framework_info, agent_info):
        print("REGISTERED", executor_info.executor_id.value, framework_info.id.value,
              agent_info.hostname, flush=True)

    def reregistered(self, driver, agent_info):
        print("REREGISTERED", agent_info.hostname, flush=True)

    def launchTask(self, driver, task):
        print("LAUNCH", task.task_id.value, flush=True)

        def run():
            driver.sendStatusUpdate(Dict(task_id=task.task_id, state="TASK_RUNNING"))
            rc = subprocess.call(decode_data(task.data).decode(), shell=True)
            driver.sendFrameworkMessage(encode_data(("ran %s rc=%d" % (task.task_id.value, rc)).encode()))
            answered = self.answered.wait(60)
            state = "TASK_FINISHED" if rc == 0 and answered else "TASK_FAILED"
            message = "rc=%d answered=%s" % (rc, answered)
            driver.sendStatusUpdate(Dict(task_id=task.task_id, state=state, message=message))

        threading.Thread(target=run, daemon=True).start()

    def killTask(self, driver, task_id):
        print("KILL", task_id.value, flush=True)
        driver.sendStatusUpdate(Dict(task_id=task_id, state="TASK_KILLED"))

    def frameworkMessage(self, driver, message):
        print("MESSAGE", decode_data(message).decode(), flush=True)
        self.answered.set()

    def shutdown(self, driver):
        print("SHUTDOWN", flush=True)

    def error(self, driver, message):
        print("ERROR", message, flush=True)


if __name__ == "__main__":
    MesosExecutorDriver(Runner(), use_addict=True).run()
