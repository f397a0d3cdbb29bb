"""`itinera run`: the whole system on one machine, from the SAM template, with demo data."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import threading
import time
from typing import Any

import boto3
import redis

from itinera.auth import AUDIENCE, LOCAL_ISSUER, LocalIssuer
from itinera.limits.gcra import KEY_PREFIX as LIMIT_PREFIX
from itinera.limits.holdings import KEY_PREFIX as LEDGER_PREFIX
from localaws import cloudfront, cloudwatch, deps, elb, iam, moto_server
from localaws.alarms.install import install as install_alarms
from localaws.cloudwatch import reader as cloudwatch_reader
from localaws.config import (
    AZS,
    LOCAL_TIME_SCALE,
    ROOT,
    StackConfig,
    aws_env,
    local_limits,
    local_seconds,
    time_scale,
)
from localaws.ecs.appscaling import scalable_target, write_targets
from localaws.ecs.autoscaler import Autoscaler
from localaws.ecs.model import EcsService, ecs_services
from localaws.ecs.scheduler import Scheduler
from localaws.faults import plan as fault_plan
from localaws.faults.proxy import Route
from localaws.fis.templates import from_cloudformation
from localaws.functions import functions
from localaws.loadgen import deploy_loadgen
from localaws.loadgen import stack_name as loadgen_stack
from localaws.processes import Supervisor, port_open, python, wait_http
from localaws.record import (
    DatabaseRecord,
    RedrivePair,
    ServiceRecord,
    StackRecord,
    TaskRecord,
)
from localaws.resources import ACCOUNT_ID, Deployed, deploy
from localaws.template import load_sam, transform

# Tokens for the scheduled game day's travellers (twice its default 20 users, two workers).
GAMEDAY_TOKENS = 80


class LocalStack:
    """Start every part in order, and stop every part it started."""

    def __init__(self, config: StackConfig, *, say: Any = print) -> None:
        self.config = config
        self.say = say
        self.supervisor = Supervisor(config.state_dir)
        self.private: list[deps.PrivateServer] = []
        self.deployed: Deployed | None = None
        # With enforce_iam: each role's credentials, and the operator's for records and tests.
        self.role_credentials: dict[str, iam.Credentials] = {}
        self.operator: iam.Credentials | None = None
        self.process_roles: dict[str, str] = {}
        # One credential per service calling inventory, fresh each run.
        # The payment simulator's card fingerprint key (Secrets Manager on AWS).
        self.card_fingerprint_key = secrets.token_urlsafe(32)
        self.service_tokens = {"gateway": secrets.token_urlsafe(32),
                               "checkout": secrets.token_urlsafe(32)}
        self.fault_routes: list[Route] = []
        # The ECS stand-in: it starts, places, replaces and scales the service tasks.
        self.scheduler = Scheduler(self.supervisor, ports=config.task_ports,
                                   state_dir=config.state_dir, say=say,
                                   on_change=self._tasks_changed)
        self.autoscaler: Autoscaler | None = None
        self.time_scale = LOCAL_TIME_SCALE
        self.balancers: dict[str, elb.Balancer] = {}
        self.ecs: dict[str, EcsService] = {}
        self._record_lock = threading.Lock()
        self._recorded = False

    def start(self) -> None:
        """Bring the stack up; on any failure, stop what was started and re-raise."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        cfg = self.config
        for line in self.supervisor.reap_leftovers():
            self.say(line)
        elb.find_haproxy()  # the load balancers need it: say so before starting anything
        for port in cfg.all_ports:
            if port_open("127.0.0.1", port):
                raise RuntimeError(f"port {port} is taken; stop what uses it or choose "
                                   f"another --port-base")
        mysql_cfg = deps.mysql_config_from_env({**os.environ, "DB_NAME": cfg.database})
        server, lines = deps.ensure_mysql(mysql_cfg, state_dir=cfg.state_dir)
        self._keep(server, lines)
        redis_cfg = deps.redis_config_from_env(os.environ)
        server, lines = deps.ensure_redis(redis_cfg, state_dir=cfg.state_dir)
        self._keep(server, lines)
        self.mysql, self.redis = mysql_cfg, redis_cfg
        # The time scale the stack's processes read as they start (ITINERA_TIME_SCALE), kept:
        # the record is written again later, when the environment may be another.
        self.time_scale = time_scale()
        self._forget_limits()

        issuer = LocalIssuer(cfg.state_dir / "jwt")
        issuer.ensure_keys()
        self.jwks_path = issuer.jwks_path

        self._start_moto()
        if cfg.fault_proxies:
            self._start_fault_proxies()
        self.deployed = self._deploy()
        if cfg.monitoring:
            self._start_metrics_agent()
        self._prepare_database()
        self.scheduler.start()
        self._start_services()
        if cfg.monitoring:
            self._start_alarms()
        self._start_fis()
        self._start_ecs_tasks()
        self._recorded = True
        self._write_record()
        if cfg.monitoring and cfg.autoscaling:
            self._start_autoscaler()

    def _start_autoscaler(self) -> None:
        cfg = self.config
        assert self.deployed is not None
        groups = {g.logical_id: self.deployed.get_att(g.logical_id, "TargetGroupFullName")
                  for g in elb.target_groups(self.deployed.template).values()}
        # The scaler reads CloudWatch (moto, fed by the metrics agent), as on AWS.
        reader = cloudwatch_reader.local_reader(cfg.state_dir, cfg.moto_url, cfg.region,
                                                credentials=self.aws_credentials())
        self.autoscaler = Autoscaler(self.scheduler, state_dir=cfg.state_dir,
                                     time_scale=self.time_scale, target_groups=groups,
                                     reader=reader, resolve=self.deployed.resolve,
                                     say=self.say)
        self.autoscaler.start()

    def _forget_limits(self) -> None:
        """Drop a previous run's limit budgets and hold ledgers: its holds are gone with its
        database, and tests mint the same travellers' names run after run."""
        client = redis.Redis(host=self.redis.host, port=self.redis.port, db=self.config.redis_db)
        try:
            for pattern in (f"{LIMIT_PREFIX}*", f"{LEDGER_PREFIX}*"):
                keys = list(client.scan_iter(match=pattern, count=1000))
                for start in range(0, len(keys), 1000):
                    client.delete(*keys[start:start + 1000])
        finally:
            client.close()

    def _keep(self, server: deps.PrivateServer | None, lines: list[str]) -> None:
        if server is not None:
            self.private.append(server)
        for line in lines:
            self.say(line)

    def _start_moto(self) -> None:
        cfg = self.config
        # moto under a keep-alive server, plus one read-only view the metrics agent needs.
        child = self.supervisor.start("moto", [python(), "-m", moto_server.__name__, "-H",
                                               "127.0.0.1", "-p", str(cfg.moto_port)],
                                      dict(os.environ))
        wait_http(f"{cfg.moto_url}/moto-api/", child=child)
        self.say(f"AWS emulator (moto server) on {cfg.moto_url}")

    def _start_fault_proxies(self) -> None:
        """Put one proxy per dependency and AZ in front of MariaDB, Redis and moto."""
        cfg = self.config
        self.fault_routes = fault_plan.routes(cfg, mysql=(self.mysql.host, self.mysql.port),
                                              redis=(self.redis.host, self.redis.port))
        path = fault_plan.write_config(cfg.state_dir / "run" / "faults.json", cfg,
                                       self.fault_routes)
        child = self.supervisor.start("faults", [python(), "-m", "localaws.faults",
                                                 str(path)], dict(os.environ))
        url = f"http://127.0.0.1:{fault_plan.control_port(cfg)}/faults"
        wait_http(url, child=child)
        self.say(f"fault proxies in front of MariaDB, Redis and moto per AZ; control API {url}")

    def fis_configuration_location(self) -> str | None:
        """Return where game days write Lambda faults (the FIS extension's bucket), if any."""
        assert self.deployed is not None
        bucket = next((self.deployed.physical[n] for n in sorted(self.deployed.physical)
                       if n.endswith("FisLambdaConfigBucket")), None)
        return f"arn:aws:s3:::{bucket}/fis-lambda-config/" if bucket else None

    def _fis_env(self) -> dict[str, str]:
        """Return the FIS extension's variable for the Lambda hosts.

        On AWS it is set only with the extension layer (FisExtensionLayerArn); locally the
        host plays the extension, so every function polls its settings object, and the
        game-day executor drives it.
        """
        location = self.fis_configuration_location()
        return {"AWS_FIS_CONFIGURATION_LOCATION": location} if location else {}

    def _az_env(self, az: str) -> dict[str, str]:
        """Return what sends *az*'s tasks through its fault proxies (nothing without them)."""
        if not self.fault_routes:
            return {}
        return fault_plan.az_env(self.fault_routes, az, redis_db=self.config.redis_db)

    def _deploy(self) -> Deployed:
        cfg = self.config
        params = {"Stage": cfg.stage, "InventoryUrl": f"http://127.0.0.1:{cfg.inventory_port}",
                  "RedisUrl": self.base_env()["REDIS_URL"], "Limits": local_limits()}
        sam = load_sam()
        template = transform(sam, region=cfg.region, parameters=params)
        self.ecs = ecs_services(template, sam.get("Mappings", {}))
        env = aws_env(cfg)
        clients = {name: self._client(name, env)
                   for name in ("cloudformation", "sns", "sqs", "ses", "s3")}
        deployed = deploy(template, cloudformation=clients["cloudformation"], sns=clients["sns"],
                          sqs=clients["sqs"], stack_name=f"itinera-{cfg.stage}",
                          region=cfg.region)
        sender = template.parameters["SesSender"]
        clients["ses"].verify_email_identity(EmailAddress=sender)
        cloudfront.publish_page(deployed, clients["s3"])
        if cfg.enforce_iam:
            self._enforce_iam(template, env)
        record = cfg.state_dir / "run" / "deployed.json"
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps({"region": cfg.region, "stack_name": deployed.stack_name,
                                      "parameters": template.parameters,
                                      "physical": deployed.physical}, indent=2))
        self.deployed_record = record
        self.say(f"AWS resources from infra/sam/ (nested stacks flattened): "
                 f"{len(deployed.physical)} "
                 f"created in the emulator (stack {deployed.stack_name})")
        return deployed

    def _start_metrics_agent(self) -> None:
        """Start the agent that turns logs, balancers and queues into CloudWatch metrics."""
        cfg = self.config
        self.supervisor.start("metrics-agent", [
            python(), "-m", cloudwatch.AGENT, "--state-dir", str(cfg.state_dir),
            "--deployed", str(self.deployed_record), "--endpoint-url", cfg.moto_url,
            "--region", cfg.region, "--reset"],
            {**os.environ, **self.aws_credentials(), "PYTHONUNBUFFERED": "1"})
        self.say(f"metrics agent: EMF from {cfg.state_dir / 'logs'}/, ALB and SQS metrics "
                 f"every {local_seconds(60):g}s (time scale {LOCAL_TIME_SCALE:g}) into the "
                 f"emulator's CloudWatch and {cfg.state_dir / 'run' / 'metrics.sqlite'}")

    def _enforce_iam(self, template: Any, env: dict[str, str]) -> None:
        """Give each process its role's credentials, then make moto enforce IAM."""
        clients = {name: self._client(name, env) for name in ("iam", "sts")}
        self.process_roles = iam.process_roles(template)
        self.role_credentials, self.operator = iam.provision(
            template, iam=clients["iam"], sts=clients["sts"], account_id=ACCOUNT_ID)
        iam.enforce(self.config.moto_url)
        self.say(f"IAM enforced in the emulator: {len(self.role_credentials)} roles, each "
                 f"process with its own")

    def aws_credentials(self, process: str | None = None) -> dict[str, str]:
        """Return the AWS credentials *process* calls with (the operator's when None)."""
        if not self.config.enforce_iam:
            return aws_env(self.config)
        if process is None:
            assert self.operator is not None
            return {**aws_env(self.config), **self.operator.env()}
        return {**aws_env(self.config),
                **self.role_credentials[self.process_roles[process]].env()}

    def base_env(self) -> dict[str, str]:
        """Return the environment every service process gets."""
        cfg = self.config
        return {**os.environ, **aws_env(cfg), "PYTHONUNBUFFERED": "1",
                "DB_HOST": self.mysql.host, "DB_PORT": str(self.mysql.port),
                "DB_USER": self.mysql.user, "DB_PASSWORD": self.mysql.password,
                "DB_NAME": cfg.database,
                "REDIS_URL": f"redis://{self.redis.host}:{self.redis.port}/{cfg.redis_db}",
                "LOCAL_JWKS_PATH": str(self.jwks_path)}

    def _prepare_database(self) -> None:
        env = self.base_env()
        started = time.monotonic()
        subprocess.run([python(), "-m", "inventory.migrate"], env=env, check=True,
                       cwd=ROOT, capture_output=True)
        subprocess.run([python(), "-m", "inventory.seed", "--size", self.config.seed_size,
                        "--reset"], env=env, check=True, cwd=ROOT, capture_output=True)
        self.say(f"MySQL schema migrated and demo catalog seeded "
                 f"({time.monotonic() - started:.1f}s)")

    def _start_services(self) -> None:
        cfg = self.config
        assert self.deployed is not None
        # The scalable targets, as the template registers them (Application Auto Scaling's
        # API reads and changes them: localaws/ecs/appscaling.py).
        write_targets(cfg.state_dir, [
            scalable_target(s.cluster, s.name, low=s.min_capacity, high=s.max_capacity)
            for s in self.ecs.values()])
        env = self.base_env()
        self._start_balancer("inventory", cfg.inventory_port)
        self._start_tasks("inventory", [python(), "-m", "inventory"], {
            **env, **self.aws_credentials("inventory"),
            "GATEWAY_SERVICE_TOKEN": self.service_tokens["gateway"],
            "CHECKOUT_SERVICE_TOKEN": self.service_tokens["checkout"]})

        for name, spec in functions(self.deployed).items():
            args = [python(), "-m", "localaws.lambda_host", "--function", name,
                    "--deployed", str(self.deployed_record)]
            if spec.routes:
                args += ["--port", str(cfg.checkout_api_port)]
            child = self.supervisor.start(f"lambda-{name}", args, {
                **env, **self.aws_credentials(name), **self._fis_env(),
                "INTERNAL_TOKEN": self.service_tokens["checkout"],
                "CARD_FINGERPRINT_KEY": self.card_fingerprint_key})
            if spec.routes:
                wait_http(f"http://127.0.0.1:{cfg.checkout_api_port}/_local/health",
                          child=child)

        d = self.deployed
        self._start_tasks("notifier", [python(), "-m", "notifier"], {
            **env, **self.aws_credentials("notifier"),
            "NOTIFIER_QUEUE_URL": d.ref("NotifierQueue"),
            "NOTIFICATIONS_TABLE": d.ref("NotificationsTable"),
            "ITINERARIES_BUCKET": d.ref("ItinerariesBucket"),
            "SES_SENDER": d.template.parameters["SesSender"]})

        # The edge before the gateway: once the public entry is ready, so is the page
        # (`itinera run`'s callers take the gateway's /ready for "the stack is up").
        self.edge = cloudfront.plan(d, port=cfg.cloudfront_port,
                                    service_ports={"gateway": cfg.gateway_port})
        # CloudFront reads the bucket as its own service principal (origin access control);
        # the operator's credentials stand in for it when the emulator enforces IAM.
        cloudfront.start_edge(self.supervisor, self.edge, deployed_record=self.deployed_record,
                              jwt_dir=cfg.state_dir / "jwt",
                              env={**env, **self.aws_credentials()})
        self.say(f"web page on {self.edge.url}: the local CloudFront serves the web bucket "
                 f"and forwards /v1/* to the public load balancer")
        self._start_balancer("gateway", cfg.gateway_port)
        self._start_tasks("gateway", [python(), "-m", "gateway"], {
            **env, **self.aws_credentials("gateway"),
            "INTERNAL_TOKEN": self.service_tokens["gateway"],
            "INVENTORY_URL": f"http://127.0.0.1:{cfg.inventory_port}",
            # The checkout API is a REST API: its routes sit under the stage, as on AWS.
            "CHECKOUT_API_URL": f"http://127.0.0.1:{cfg.checkout_api_port}/live",
            "JWKS_PATH": str(self.jwks_path), "JWT_ISSUER": LOCAL_ISSUER,
            "JWT_AUDIENCE": AUDIENCE, "LIMITS": local_limits()})
        wait_http(f"http://127.0.0.1:{cfg.gateway_port}/ready", child=None)

    def _client(self, service: str, credentials: dict[str, str]) -> Any:
        """Return a boto3 client of *service* at the emulator, with *credentials*."""
        cfg = self.config
        return boto3.client(service, region_name=cfg.region, endpoint_url=cfg.moto_url,
                            aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
                            aws_session_token=credentials.get("AWS_SESSION_TOKEN"))

    def _start_fis(self) -> None:
        """Start the FIS stand-in; it routes moto's FIS requests to itself."""
        cfg = self.config
        child = self.supervisor.start("fis", [
            python(), "-m", "localaws.fis", "--state-dir", str(cfg.state_dir), "--port",
            str(cfg.fis_port), "--endpoint-url", cfg.moto_url, "--region", cfg.region],
            {**self.base_env(), **self.aws_credentials()})
        wait_http(f"http://127.0.0.1:{cfg.fis_port}/experimentTemplates", child=child)
        # The template's experiment templates, created as CloudFormation creates them on AWS.
        assert self.deployed is not None
        fis = self._client("fis", self.aws_credentials())
        created = 0
        for logical_id, resource in self.deployed.template.resources.items():
            if resource["Type"] != "AWS::FIS::ExperimentTemplate":
                continue
            request = from_cloudformation(self.deployed.resolve(resource["Properties"]))
            fis.create_experiment_template(clientToken=logical_id, **request)
            created += 1
        self.say(f"FIS (experiments carried out on this stack) at {cfg.moto_url}, as every "
                 f"other AWS API; {created} experiment templates from the template")

    def _start_ecs_tasks(self) -> None:
        """Start the ECS stand-in that runs tasks on demand, and deploy the load generator's
        stack, whose master and workers it runs (`itinera load`, game days)."""
        cfg = self.config
        child = self.supervisor.start("ecs-tasks", [
            python(), "-m", "localaws.ecs", "--state-dir", str(cfg.state_dir), "--port",
            str(cfg.ecs_port), "--endpoint-url", cfg.moto_url, "--region", cfg.region],
            {**self.base_env(), **self.aws_credentials()})
        wait_http(f"http://127.0.0.1:{cfg.ecs_port}/health", child=child)
        env = self.aws_credentials()
        clients = {name: self._client(name, env)
                   for name in ("cloudformation", "sns", "sqs", "ecs", "scheduler", "events")}
        assert self.deployed is not None
        outputs = deploy_loadgen(stage=cfg.stage, region=cfg.region, **clients, parameters={
            "TargetUrl": f"http://127.0.0.1:{cfg.gateway_port}",
            "OpsTopicArn": self.deployed.ref("AlarmsTopic")})
        # The scheduled game day's travellers, as an operator puts Cognito test users' tokens
        # there on AWS (chaos/gameday/task.py reads them).
        issuer = LocalIssuer(cfg.state_dir / "jwt")
        tokens = [issuer.mint(f"gameday-{n}", ttl=7 * 86400) for n in range(GAMEDAY_TOKENS)]
        self._client("s3", env).put_object(Bucket=outputs["ResultsBucketName"],
                                           Key="tokens/gameday.txt",
                                           Body="\n".join(tokens).encode())
        self.supervisor.start("scheduler", [
            python(), "-m", "localaws.scheduler", "--state-dir", str(cfg.state_dir),
            "--endpoint-url", cfg.moto_url, "--region", cfg.region],
            {**self.base_env(), **env})
        self.say(f"ECS RunTask/StopTask run tasks here (the rest of ECS is moto's); load "
                 f"generator stack {loadgen_stack(cfg.stage)}: cluster "
                 f"{outputs['ClusterName']}, results in s3://{outputs['ResultsBucketName']}; "
                 f"EventBridge Scheduler schedules fire at time scale {local_seconds(1):g}")

    def _start_alarms(self) -> None:
        """Put the template's alarms in moto and start the evaluator that moto lacks."""
        cfg = self.config
        assert self.deployed is not None
        env = self.aws_credentials()
        cloudwatch = self._client("cloudwatch", env)
        names = install_alarms(self.deployed, cloudwatch, cfg.state_dir)
        self.supervisor.start("alarm-evaluator", [
            python(), "-m", "localaws.alarms", "--state-dir", str(cfg.state_dir),
            "--endpoint-url", cfg.moto_url, "--region", cfg.region], {**self.base_env(), **env})
        self.say(f"{len(names)} alarms from the template, evaluated locally every "
                 f"{local_seconds(60):g} s (time scale {local_seconds(1):g}: a 60 s alarm "
                 f"period lasts {local_seconds(60):g} s); transitions in "
                 f"{cfg.state_dir / 'run' / 'alarm-history.jsonl'}")

    def _start_tasks(self, service: str, args: list[str], env: dict[str, str]) -> None:
        """Hand *service* to the ECS stand-in and wait until its desired tasks serve."""
        # With fault proxies, each AZ's tasks reach their dependencies through that AZ's.
        self.scheduler.add_service(self.ecs[service], args, env,
                                   balancer=self.balancers.get(service),
                                   az_env={az: self._az_env(az) for az in AZS})
        self.scheduler.wait_steady(service)

    def _start_balancer(self, service: str, port: int) -> None:
        """Put HAProxy on *port*, as the ALB of *service*'s target group, before its tasks.

        It starts with no targets: the scheduler registers each task once it is ready.
        """
        assert self.deployed is not None
        balancer = elb.Balancer(name=service, port=port, targets=(),
                                group=elb.target_groups(self.deployed.template)[service],
                                socket=elb.socket_path(self.config.state_dir, service))
        child = elb.start_balancer(self.supervisor, balancer)
        self.balancers[service] = balancer
        # No target yet: HAProxy answers 503 until the first task registers.
        wait_http(f"http://127.0.0.1:{port}/health", child=child, ok=(200, 503))

    def _tasks_changed(self) -> None:
        if self._recorded:
            self._write_record()

    def _write_record(self) -> None:
        """Tell operator commands (`itinera check`, `itinera redrive`) where everything is."""
        assert self.deployed is not None
        cfg = self.config
        services = self.scheduler.snapshot()
        record = StackRecord(
            gateway_url=f"http://127.0.0.1:{cfg.gateway_port}", web_url=self.edge.url,
            aws=self.aws_credentials(),
            database=DatabaseRecord(host=self.mysql.host, port=self.mysql.port,
                                    user=self.mysql.user, name=cfg.database),
            resources={name: self.deployed.ref(name) for name in self.deployed.physical},
            tasks={name: TaskRecord.model_validate(task) for service in services.values()
                   for name, task in service["tasks"].items()},
            services={name: ServiceRecord.model_validate(service)
                      for name, service in services.items()},
            dead_letter_queues=dead_letter_queues(self.deployed),
            # Reports (itinera dashboard render) scale periods as this stack runs them.
            time_scale=self.time_scale, stage=cfg.stage,
            faults_url=(f"http://127.0.0.1:{fault_plan.control_port(cfg)}"
                        if cfg.fault_proxies else None),
            fis_configuration_location=self.fis_configuration_location())
        # Task changes come from several threads: one writer at a time.
        with self._record_lock:
            record.write(cfg.state_dir)

    def stop(self) -> None:
        """Stop every process this stack started, private database servers last."""
        if self.autoscaler is not None:
            self.autoscaler.stop()
        self.scheduler.stop()
        self.supervisor.stop_all()
        for server in reversed(self.private):
            server.stop()
        self.private.clear()

    def watch(self, stop: threading.Event) -> None:
        """Block until *stop* is set or a part that is not a service task dies.

        A service task that dies is the ECS stand-in's to replace, as an ECS service does.
        """
        while not stop.wait(0.5):
            dead = self.supervisor.first_dead()
            if dead is not None:
                raise RuntimeError(f"{dead.name} exited with {dead.process.returncode}; "
                                   f"see {dead.log_path}")


def dead_letter_queues(deployed: Deployed) -> dict[str, RedrivePair]:
    """Map each queue with a redrive policy to its own URL and its DLQ's URL."""
    out = {}
    queues = deployed.template.of_type("AWS::SQS::Queue")
    for name, resource in queues.items():
        policy = resource["Properties"].get("RedrivePolicy")
        if not policy:
            continue
        dlq_arn = deployed.resolve(policy["deadLetterTargetArn"])
        dlq = next(n for n in queues if deployed.get_att(n, "Arn") == dlq_arn)
        out[name] = RedrivePair(queue_url=deployed.ref(name), dlq_url=deployed.ref(dlq))
    return out


def run_forever(config: StackConfig) -> int:
    """Run the stack until Ctrl-C or SIGTERM; return the exit status."""
    stop = threading.Event()

    def on_signal(signum: int, _: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stack = LocalStack(config)
    started = time.monotonic()
    try:
        stack.start()
        url = f"http://127.0.0.1:{config.gateway_port}"
        print(f"""
Itinera is up in {time.monotonic() - started:.0f}s: {url}
  web:     open http://127.0.0.1:{config.cloudfront_port} (the booking page, served as
           CloudFront serves it; sign in with any name)
  search:  curl '{url}/v1/flights?origin=LHR&destination=JFK&date=YYYY-MM-DD'
  token:   TOKEN=$(.venv/bin/itinera token --sub alice)
  hold:    curl -X POST {url}/v1/holds -H "Authorization: Bearer $TOKEN" \\
             -H 'Content-Type: application/json' -d '{{"items": [...]}}'
  logs:    {config.state_dir / 'logs'}/
Ctrl-C stops everything.""", flush=True)
        stack.watch(stop)
        return 0
    except RuntimeError as exc:
        print(f"itinera run: {exc}", flush=True)
        return 1
    finally:
        print("stopping the local stack...", flush=True)
        stack.stop()
        print("stopped.", flush=True)
