"""A pymesos framework, unchanged pymesos 0.3.15 API: runs N shell tasks on
the cluster at argv[1] (host:port or zk://...), prints one line per event,
exits 0 once every task finished (1 if one ended otherwise).

    python pymesos_scheduler.py 127.0.0.1:5050 3 ["echo hello from pymesos"] [EXECUTOR]

With EXECUTOR (a command line, e.g. `python pymesos_executor.py`), each
task runs on an executor of its own started with it (an HTTP executor),
the task's command in its `data`; each framework message the executor
sends is printed and answered with one ("thanks <task>").
"""
import sys
import threading

from addict import Dict
from pymesos import MesosSchedulerDriver, Scheduler, decode_data, encode_data

TERMINAL = {"TASK_FINISHED", "TASK_FAILED", "TASK_KILLED", "TASK_LOST", "TASK_ERROR", "TASK_DROPPED", "TASK_GONE"}


class Runner(Scheduler):
    def __init__(self, tasks, command, executor=None):
        self.tasks, self.command, self.executor = tasks, command, executor
        self.launched, self.finished, self.failed = 0, 0, 0
        self.lock = threading.Lock()

    def registered(self, driver, framework_id, master_info):
        print("REGISTERED", framework_id["value"], flush=True)

    def reregistered(self, driver, master_info):
        print("REREGISTERED", flush=True)

    def resourceOffers(self, driver, offers):
        for offer in offers:
            cpus = sum(r.scalar.value for r in offer.resources if r.name == "cpus")
            with self.lock:
                if self.launched >= self.tasks or cpus < 0.1:
                    driver.declineOffer(offer.id, Dict(refuse_seconds=1))
                    continue
                task = Dict()
                task.task_id.value = "py-%d" % self.launched
                task.agent_id.value = offer.agent_id.value
                task.name = task.task_id.value
                if self.executor:
                    task.executor.executor_id.value = "exec-" + task.task_id.value
                    task.executor.command.value = self.executor
                    task.data = encode_data(self.command.encode())
                else:
                    task.command.value = self.command
                task.resources = [
                    dict(name="cpus", type="SCALAR", scalar={"value": 0.1}),
                    dict(name="mem", type="SCALAR", scalar={"value": 32}),
                ]
                self.launched += 1
            print("LAUNCH", task.task_id.value, "on", offer.hostname, flush=True)
            driver.launchTasks(offer.id, [task], Dict(refuse_seconds=0))

    def statusUpdate(self, driver, update):
        print("STATUS", update.task_id.value, update.state, flush=True)
        if update.state not in TERMINAL:
            return
        with self.lock:
            if update.state == "TASK_FINISHED":
                self.finished += 1
            else:
                self.failed += 1
            if self.finished + self.failed == self.tasks:
                print("DONE finished=%d failed=%d" % (self.finished, self.failed), flush=True)
                driver.stop()

    def frameworkMessage(self, driver, executor_id, agent_id, message):
        text = decode_data(message).decode()
        print("MESSAGE", executor_id["value"], text, flush=True)
        task = executor_id["value"][len("exec-"):]
        driver.sendFrameworkMessage(executor_id, agent_id, encode_data(("thanks " + task).encode()))

    def error(self, driver, message):
        print("ERROR", message, flush=True)


def main():
    master, tasks = sys.argv[1], int(sys.argv[2])
    command = sys.argv[3] if len(sys.argv) > 3 else "echo hello from pymesos"
    executor = sys.argv[4] if len(sys.argv) > 4 else None
    runner = Runner(tasks, command, executor)
    framework = Dict(user="", name="pymesos-e2e", hostname="localhost", failover_timeout=60)
    driver = MesosSchedulerDriver(runner, framework, master, use_addict=True)
    driver.run()
    sys.exit(0 if runner.finished == tasks else 1)


if __name__ == "__main__":
    main()
