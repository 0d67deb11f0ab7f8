"""Submission and retrieval through qiskit-ibm-runtime (qbhw.experiments._runtime).

Local-mode round trips on the 5-qubit FakeManilaV2 (about 0.3 s per local job; on the 133-qubit fakes a 3 s noise
model, then about 1 s per circuit), retrieval of remote jobs through a stand-in service (no network), the
missing-credentials line and a fake-secret grep in isolated subprocesses. The default environment has
qiskit-ibm-runtime (extra ``ibm``); the pulse environment does not, and the tests that need it are skipped there.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
import textwrap

import pytest
from runtime_fakes import FakeJob, FakeService

from qbhw.errors import MissingDependencyError, ParameterError, QbhwError
from qbhw.experiments._runtime import (
    NO_CREDENTIALS,
    JobCircuit,
    JobEntry,
    JobsRecord,
    read_jobs,
    retrieve,
    write_jobs,
)
from qbhw.experiments.bundle import (
    JOBS_FILE,
    CircuitCounts,
    RegisterCounts,
    RegisterSpec,
    check_counts,
    load_counts,
    read_manifest,
)

HAS_RUNTIME = importlib.util.find_spec("qiskit_ibm_runtime") is not None
needs_runtime = pytest.mark.skipif(
    not HAS_RUNTIME, reason="needs qiskit-ibm-runtime (extra 'ibm'; not in the pulse environment)"
)

#: a 5-sigma band: a correct sampler fails one such check with probability ~6e-7
Z = 5.0


def _manila():
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    return FakeManilaV2()


def _collision_circuits(backend):
    """ISA circuits on Manila's physical qubits 3, 4 (coupled): a mid-circuit measurement into its own register
    followed by a reset, then a rotation of the other qubit and the final measurement."""
    from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, transpile

    out = []
    for k, theta in enumerate((0.0, 1.0, 2.0)):
        qc = QuantumCircuit(QuantumRegister(2, "q"), ClassicalRegister(1, "anc"), ClassicalRegister(2, "tomo"))
        qc.name = f"collision_{k}"
        qc.x(0)
        qc.measure(0, 0)
        qc.reset(0)
        qc.ry(theta, 1)
        qc.barrier()
        qc.measure([0, 1], [1, 2])
        qc.metadata = {"theta": theta}
        out.append(transpile(qc, backend=backend, initial_layout=[3, 4], optimization_level=1, seed_transpiler=1))
    return out


@pytest.fixture(scope="module")
def manila():
    if not HAS_RUNTIME:
        pytest.skip("needs qiskit-ibm-runtime")
    return _manila()


@pytest.fixture(scope="module")
def circuits(manila):
    return _collision_circuits(manila)


# ------------------------------------------------------------------------------------------------ primitive


@needs_runtime
def test_sampler_kind_is_the_executor_sampler_and_top_level_sampler_is_still_v2():
    import qiskit_ibm_runtime as rt

    from qbhw.experiments._runtime import sampler_kind

    assert sampler_kind() == "executor"
    from qiskit_ibm_runtime.executor_sampler import Sampler

    # the trap the explicit import avoids (runtime 0.51): the top-level name is the deprecated SamplerV2
    if tuple(int(x) for x in rt.__version__.split(".")[:2]) <= (0, 51):
        assert rt.Sampler is rt.SamplerV2 and rt.Sampler is not Sampler


@pytest.mark.skipif(HAS_RUNTIME, reason="only where qiskit-ibm-runtime is missing (pulse environment)")
def test_without_runtime_submission_says_how_to_install_it():
    from qbhw.experiments._runtime import sampler_kind

    with pytest.raises(MissingDependencyError, match=r"pip install 'qbhw\[ibm\]'"):
        sampler_kind()


# ------------------------------------------------------------------------------------------------ backend checks


def _small_target(with_reset=True, with_if_else=False):
    from qiskit.circuit import IfElseOp, Measure, Parameter, Reset
    from qiskit.circuit.library import CZGate, RZGate, SXGate, XGate
    from qiskit.transpiler import InstructionProperties, Target

    t = Target(num_qubits=3, description="tiny")
    one = {(q,): InstructionProperties(duration=1e-8, error=1e-4) for q in range(3)}
    t.add_instruction(RZGate(Parameter("a")), dict(one))
    t.add_instruction(SXGate(), dict(one))
    t.add_instruction(XGate(), dict(one))
    t.add_instruction(CZGate(), {(0, 1): InstructionProperties(duration=6e-8, error=1e-3)})
    t.add_instruction(Measure(), dict(one))
    if with_reset:
        t.add_instruction(Reset(), dict(one))
    if with_if_else:
        t.add_instruction(IfElseOp, name="if_else")
    return t


def _check(target, build):
    from qiskit import QuantumCircuit

    from qbhw.experiments._runtime import check_backend

    qc = QuantumCircuit(3, 1, name="c")
    build(qc)
    check_backend(target, [qc])


def test_check_backend_accepts_isa_circuits():
    _check(_small_target(), lambda qc: (qc.x(0), qc.cz(0, 1), qc.barrier(), qc.reset(2), qc.measure(0, 0)))


@pytest.mark.parametrize(
    ("target", "build", "message"),
    [
        (
            _small_target(with_reset=False),
            lambda qc: (qc.x(0), qc.reset(2), qc.measure(0, 0)),
            r"backend tiny has no 'reset' instruction \(circuit 'c' uses it on qubit\(s\) \[2\]\); collision circuits "
            "need a mid-circuit reset",
        ),
        (_small_target(), lambda qc: qc.cz(1, 2), r"does not offer 'cz' on qubit\(s\) \[1, 2\]"),
        (_small_target(), lambda qc: qc.h(0), "has no 'h' instruction"),
        (_small_target(), lambda qc: qc.rzz(-0.1, 0, 1), "has no 'rzz' instruction"),
    ],
)
def test_check_backend_refuses_what_the_backend_lacks(target, build, message):
    with pytest.raises(QbhwError, match=message) as info:
        _check(target, build)
    assert "\n" not in str(info.value)


def test_check_backend_looks_inside_control_flow_and_at_the_width():
    from qiskit import QuantumCircuit

    from qbhw.experiments._runtime import check_backend

    def feedback(qc):
        qc.measure(0, 0)
        with qc.if_test((qc.clbits[0], 1)):
            qc.reset(1)

    with pytest.raises(QbhwError, match="has no 'if_else' instruction"):
        _check(_small_target(), feedback)
    with pytest.raises(QbhwError, match="has no 'reset' instruction"):
        _check(_small_target(with_reset=False, with_if_else=True), feedback)
    _check(_small_target(with_if_else=True), feedback)
    wide = QuantumCircuit(4, 1, name="wide")
    wide.measure(3, 0)
    with pytest.raises(QbhwError, match="circuit 'wide' has 4 qubits; backend tiny has 3"):
        check_backend(_small_target(), [wide])


def test_check_backend_refuses_rzz_angles_ibm_does_not_run():
    from qiskit.circuit import Parameter
    from qiskit.circuit.library import RZZGate
    from qiskit.transpiler import InstructionProperties

    target = _small_target()
    target.add_instruction(RZZGate(Parameter("t")), {(0, 1): InstructionProperties(duration=6e-8, error=1e-3)})
    _check(target, lambda qc: qc.rzz(math.pi / 2, 0, 1))
    with pytest.raises(QbhwError, match=r"rzz angle -0.1 on qubits \[0, 1\] is outside \[0, pi/2\]"):
        _check(target, lambda qc: qc.rzz(-0.1, 0, 1))


@needs_runtime
def test_nighthawk_class_fake_without_reset_is_refused_before_submission():
    from qiskit import QuantumCircuit
    from qiskit_ibm_runtime import fake_provider

    from qbhw.experiments._runtime import check_backend

    if not hasattr(fake_provider, "FakeMiami"):
        pytest.skip("this qiskit-ibm-runtime has no FakeMiami")
    backend = fake_provider.FakeMiami()
    assert "reset" not in backend.target.operation_names
    qc = QuantumCircuit(2, 1, name="collision")
    qc.reset(1)
    qc.measure(0, 0)
    with pytest.raises(QbhwError, match="backend fake_miami has no 'reset' instruction"):
        check_backend(backend, [qc])


@needs_runtime
def test_circuits_compiled_for_qbhws_fake_torino_are_isa_for_the_runtimes_fake_torino():
    """The local round trip runs circuits compiled against qbhw's calibration snapshot on the runtime's own fake:
    every gate of the calibration must exist on the same qubits there (check_backend would refuse otherwise)."""
    from qiskit import QuantumCircuit, transpile
    from qiskit_ibm_runtime.fake_provider import FakeTorino

    from qbhw.experiments._runtime import check_backend
    from qbhw.hardware import load_calibration, transpile_target

    cal = load_calibration("fake_torino")
    backend = FakeTorino()
    missing = [(g.name, g.qubits) for g in cal.gates if not backend.target.instruction_supported(g.name, g.qubits)]
    assert not missing
    qc = QuantumCircuit(3, 3, name="c")
    qc.h(0)
    qc.cx(0, 1)
    qc.cx(1, 2)
    qc.delay(100, 0, unit="ns")
    qc.reset(2)
    qc.measure([0, 1, 2], [0, 1, 2])
    isa = transpile(qc, target=transpile_target(cal), initial_layout=[100, 101, 102], seed_transpiler=1)
    check_backend(backend, [isa])


# ------------------------------------------------------------------------------------------------ local round trip


@needs_runtime
@pytest.mark.slow
def test_local_round_trip_stores_counts_per_register_with_memory(manila, circuits):
    from qbhw.experiments._runtime import submit

    record = submit(circuits, backend="fake_manila", shots=[256, 256, 128], local=True, seed=7, tags=("qbhw-x",))
    assert record.local and record.backend == "fake_manila" and record.primitive == "executor"
    # seeded local runs: one job per circuit, each with its own spawned seed
    assert len(record.jobs) == 3
    assert len({j.seed_simulator for j in record.jobs}) == 3
    assert record.options["job_tags"] == ["qbhw-x"] and record.options["seed"] == 7
    assert record.options["dynamical_decoupling"]["enable"] is False
    assert record.options["twirling"]["enable_gates"] is False
    counts = retrieve(record)
    assert list(counts) == ["collision_0", "collision_1", "collision_2"]
    for name, shots in zip(counts, (256, 256, 128), strict=True):
        cc = counts[name]
        assert cc.shots == shots and cc.has_memory
        assert cc.register_specs() == (RegisterSpec("anc", 1), RegisterSpec("tomo", 2))
        # x then a mid-circuit measurement: anc reads 1 up to Manila's readout error (a few percent)
        assert cc.registers["anc"].counts.get("1", 0) > 0.8 * shots
        # after the reset, qubit 0 (tomo clbit 0, the RIGHTMOST character) reads 0 up to readout/reset error
        tomo = cc.registers["tomo"].counts
        assert sum(n for bits, n in tomo.items() if bits[-1] == "0") > 0.8 * shots

    # ry(2.0) on qubit 1 (tomo clbit 1, the leftmost character): P(1) = sin^2(1) = 0.71, far from 0 for theta = 0
    def p1(cc):
        return sum(n for bits, n in cc.registers["tomo"].counts.items() if bits[0] == "1") / cc.shots

    assert p1(counts["collision_2"]) > 0.5 > 0.2 > p1(counts["collision_0"])
    # the record round-trips through JSON, local counts included
    again = JobsRecord.from_dict(json.loads(json.dumps(record.to_dict())))
    assert {n: cc.to_dict() for n, cc in retrieve(again).items()} == {n: cc.to_dict() for n, cc in counts.items()}


@needs_runtime
@pytest.mark.slow
def test_seeded_local_runs_are_reproducible_and_circuits_get_independent_streams(manila, circuits):
    from qbhw.experiments._runtime import submit

    twins = [circuits[1], circuits[1].copy(name="twin")]
    a = retrieve(submit(twins, backend=manila, shots=512, local=True, seed=3))
    b = retrieve(submit(twins, backend=manila, shots=512, local=True, seed=3))
    c = retrieve(submit(twins, backend=manila, shots=512, local=True, seed=4))
    assert a["twin"].registers["tomo"].memory == b["twin"].registers["tomo"].memory  # same seed: same shots
    assert a["twin"].registers["tomo"].memory != c["twin"].registers["tomo"].memory
    # the runtime's executor gives every pub of one job the same seed, so identical circuits in one job would return
    # identical shots; qbhw's per-circuit seeds make them independent
    assert a["collision_1"].registers["tomo"].memory != a["twin"].registers["tomo"].memory


@needs_runtime
@pytest.mark.slow
def test_unseeded_local_run_is_one_job_per_shot_count(manila, circuits):
    from qbhw.experiments._runtime import submit

    record = submit(circuits, backend=manila, shots=[128, 64, 128], local=True)
    assert [[c.name for c in j.circuits] for j in record.jobs] == [["collision_0", "collision_2"], ["collision_1"]]
    assert [j.shots for j in record.jobs] == [128, 64]
    assert all(j.seed_simulator is None for j in record.jobs) and record.options["seed"] is None
    assert {n: cc.shots for n, cc in retrieve(record).items()} == {
        "collision_0": 128,
        "collision_1": 64,
        "collision_2": 128,
    }


@needs_runtime
@pytest.mark.slow
def test_local_counts_agree_with_aer_on_the_fake_backends_noise_model(manila):
    """Two independent samples of one distribution: the runtime's local mode and Aer with the fake's noise model
    (AerSimulator.from_backend). |p1 - p2| <= Z sigma of the difference of two binomial proportions."""
    from qiskit import QuantumCircuit, transpile
    from qiskit_aer import AerSimulator

    from qbhw.experiments._runtime import submit

    qc = QuantumCircuit(2, 2, name="bell_ry")
    qc.ry(1.1, 0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    isa = transpile(qc, backend=manila, initial_layout=[3, 4], optimization_level=1, seed_transpiler=1)
    n = 4000
    local = retrieve(submit([isa], backend=manila, shots=n, local=True, seed=11))["bell_ry"].registers["c"].counts
    aer = AerSimulator.from_backend(manila).run(isa, shots=n, seed_simulator=12).result().get_counts()
    for key in ("00", "01", "10", "11"):
        p1, p2 = local.get(key, 0) / n, aer.get(key, 0) / n
        pooled = (p1 + p2) / 2
        assert abs(p1 - p2) <= Z * math.sqrt(max(pooled * (1 - pooled), 1 / n) * 2 / n), key


def _noiseless(manila):
    from qiskit_aer import AerSimulator

    sim = AerSimulator.from_backend(manila)
    sim.set_options(noise_model=None)
    return sim


@needs_runtime
@pytest.mark.slow
def test_twirled_local_counts_follow_the_exact_distribution(manila):
    """On a noiseless simulator with Manila's target, twirled circuits must sample the exact probabilities: one with
    a CX (a parameterised twirl template) and one without any 2-qubit gate, whose parameter-free template Aer's
    sampler would simulate for the first randomization only (qbhw runs it untwirled locally)."""
    from qiskit import QuantumCircuit, transpile

    from qbhw.experiments._runtime import submit

    theta = 1.1
    with_cx = QuantumCircuit(2, 2, name="with_cx")
    with_cx.ry(theta, 0)
    with_cx.cx(0, 1)
    with_cx.measure([0, 1], [0, 1])
    single = QuantumCircuit(2, 2, name="single")
    single.ry(theta, 1)
    single.measure([0, 1], [0, 1])
    isa = [transpile(c, backend=manila, initial_layout=[3, 4], seed_transpiler=1) for c in (with_cx, single)]
    n = 2048
    record = submit(isa, backend=_noiseless(manila), shots=n, local=True, seed=5, twirl=True)
    assert [j.twirled for j in record.jobs] == [True, False]
    counts = retrieve(record)
    p = math.sin(theta / 2) ** 2
    exact = {"with_cx": {"00": 1 - p, "11": p}, "single": {"00": 1 - p, "10": p}}
    for name, probs in exact.items():
        got = counts[name].registers["c"].counts
        assert set(got) <= set(probs), name
        for key, q in probs.items():
            assert abs(got.get(key, 0) - n * q) <= Z * math.sqrt(n * q * (1 - q)), (name, key)


@needs_runtime
@pytest.mark.slow
def test_dynamical_decoupling_runs_locally_on_circuits_with_mid_circuit_reset(manila, circuits):
    from qbhw.experiments._runtime import submit

    record = submit(circuits[:1], backend=manila, shots=64, local=True, seed=1, dd="XY4")
    assert record.options["dynamical_decoupling"] == {"enable": True, "sequence_type": "XY4"}
    assert retrieve(record)["collision_0"].shots == 64


@needs_runtime
@pytest.mark.slow
def test_sampler_v2_path_runs_locally_and_refuses_options_it_would_ignore(manila, circuits):
    from qbhw.experiments._runtime import submit

    record = submit(circuits, backend=manila, shots=[64, 64, 32], local=True, seed=2, primitive="sampler_v2")
    assert record.primitive == "sampler_v2" and len(record.jobs) == 2
    assert {n: cc.shots for n, cc in retrieve(record).items()} == {
        "collision_0": 64,
        "collision_1": 64,
        "collision_2": 32,
    }
    with pytest.raises(QbhwError, match="SamplerV2's local mode ignores dynamical decoupling and twirling"):
        submit(circuits, backend=manila, shots=64, local=True, dd="XX", primitive="sampler_v2")


# ------------------------------------------------------------------------------------------------ refusals


def _feedback(manila):
    from qiskit import QuantumCircuit, transpile

    qc = QuantumCircuit(2, 2, name="feedback")
    qc.h(0)
    qc.measure(0, 0)
    with qc.if_test((qc.clbits[0], 1)):
        qc.x(1)
    qc.measure(1, 1)
    return transpile(qc, backend=manila, initial_layout=[0, 1], seed_transpiler=1)


@needs_runtime
def test_dd_and_twirling_of_dynamic_circuits_are_refused_before_submission(manila):
    from qbhw.experiments._runtime import submit

    dynamic = _feedback(manila)
    with pytest.raises(QbhwError, match="dynamical decoupling cannot run circuit 'feedback': it has control flow"):
        submit([dynamic], backend=manila, shots=64, local=True, dd="XX")
    with pytest.raises(QbhwError, match="twirling cannot run circuit 'feedback': it has control flow"):
        submit([dynamic], backend=manila, shots=64, local=True, twirl=True)


@needs_runtime
def test_twirling_a_circuit_samplomatic_cannot_handle_is_refused_in_one_line(manila):
    """A circuit found by a search over random circuits: samplomatic 0.21 fails on it ("unsupported rz
    propagation") because of its explicit delay, and twirls it without the delay."""
    from qiskit import QuantumCircuit, transpile

    from qbhw.experiments._runtime import submit

    def build(with_delay):
        qc = QuantumCircuit(2, 2, name="delayed")
        qc.cx(0, 1)
        qc.rz(0.57474, 0)
        qc.rx(1.6926, 1)
        if with_delay:
            qc.delay(960, 1, unit="dt")
        qc.rz(0.74248, 0)
        qc.rx(2.1365, 0)
        qc.measure([0, 1], [0, 1])
        return transpile(qc, backend=manila, initial_layout=[0, 1], optimization_level=0, scheduling_method="alap")

    with pytest.raises(QbhwError, match="twirling cannot be applied to circuit 'delayed': SamplexBuildError") as info:
        submit([build(True)], backend=manila, shots=64, local=True, twirl=True)
    assert "explicit delays; submit without twirl" in str(info.value) and "\n" not in str(info.value)
    from qbhw.experiments._runtime import _options, _prevalidate

    opts = _options(shots=64, dd=None, twirl=True, tags=(), seed=None)
    assert _prevalidate("executor", manila, build(False), opts, True) is not None


@needs_runtime
@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"dd": "XYZ"}, "dd"),
        ({"shots": 0}, "shots"),
        ({"shots": [10, 10]}, "shots"),
        ({"twirl": True, "shots": 100}, "shots"),
        ({"seed": -1}, "seed"),
        ({"backend": "fake_manila", "local": False}, "backend"),
    ],
)
def test_bad_submission_arguments_name_their_flag(manila, circuits, kwargs, parameter):
    from qbhw.experiments._runtime import submit

    args = {"backend": manila, "shots": 64, "local": True} | kwargs
    with pytest.raises(ParameterError) as info:
        submit(circuits, **args)
    assert info.value.parameter == parameter


@needs_runtime
def test_unknown_fake_backend_lists_the_known_ones(circuits):
    from qbhw.experiments._runtime import submit

    with pytest.raises(QbhwError, match="unknown fake backend 'fake_nowhere'; known fake backends: .*FakeManilaV2"):
        submit(circuits, backend="fake_nowhere", shots=64, local=True)


# ------------------------------------------------------------------------------------------------ records


def _record(local=True, results=True):
    regs = (RegisterSpec("anc", 1), RegisterSpec("tomo", 2))
    counts = CircuitCounts(
        4,
        {
            "anc": RegisterCounts.from_memory(["1", "1", "0", "1"], 1),
            "tomo": RegisterCounts.from_memory(["00", "10", "10", "01"], 2),
        },
    )
    job = JobEntry("job-1", 4, (JobCircuit("c0", regs),), seed_simulator=9, results={"c0": counts} if results else None)
    return JobsRecord(
        backend="fake_manila",
        local=local,
        primitive="executor",
        runtime_version="0.51.0",
        submitted_utc="2026-01-01T00:00:00Z",
        options={"job_tags": ["t"]},
        tags=("t",),
        jobs=(job,),
    )


def test_jobs_record_round_trips_and_is_written_once(tmp_path):
    record = _record()
    path = write_jobs(tmp_path, record)
    assert path == tmp_path / JOBS_FILE
    back = read_jobs(tmp_path)
    assert back.to_dict() == record.to_dict()
    assert back.job_ids == ("job-1",) and back.circuit_names == ("c0",)
    with pytest.raises(QbhwError, match="already records jobs; the bundle was submitted"):
        write_jobs(tmp_path, record)
    assert read_jobs(tmp_path).to_dict() == record.to_dict()  # nothing overwritten


def test_retrieve_returns_stored_local_counts_and_refuses_without_them():
    counts = retrieve(_record())
    assert counts["c0"].joint_counts() == {"00 1": 1, "10 1": 1, "10 0": 1, "01 1": 1}
    with pytest.raises(QbhwError, match="local jobs cannot be retrieved by id"):
        retrieve(_record(results=False))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="qbhw-jobs/9"), "format must be 'qbhw-jobs/1'"),
        (lambda d: d.update(token="x"), "unknown key"),
        (lambda d: d.pop("backend"), "lacks key"),
        (lambda d: d.update(primitive="estimator"), "primitive must be one of"),
        (lambda d: d["jobs"][0].update(shots=0), r"jobs\[0\]\.shots must be an integer"),
        (lambda d: d.update(jobs=[]), "jobs must be a non-empty list"),
    ],
)
def test_malformed_jobs_file_is_one_line_naming_it(tmp_path, change, message):
    data = _record().to_dict()
    change(data)
    (tmp_path / JOBS_FILE).write_text(json.dumps(data))
    with pytest.raises(QbhwError, match=message) as info:
        read_jobs(tmp_path)
    assert str(info.value).startswith(str(tmp_path / JOBS_FILE)) and "\n" not in str(info.value)
    (tmp_path / JOBS_FILE).write_text("{")
    with pytest.raises(QbhwError, match="cannot read the jobs record"):
        read_jobs(tmp_path)


# ------------------------------------------------------------------------------------------------ remote retrieval


def _primitive_result(registers, num_pubs=1):
    from qiskit.primitives import PrimitiveResult
    from qiskit.primitives.containers import BitArray, DataBin, SamplerPubResult

    bins = {name: BitArray.from_samples(samples, num_bits=bits) for name, (bits, samples) in registers.items()}
    pub = SamplerPubResult(DataBin(**bins, shape=()), metadata={})
    return PrimitiveResult([pub] * num_pubs, metadata={})


def _remote():
    return JobsRecord.from_dict({**_record(local=False, results=False).to_dict(), "backend": "ibm_torino"})


def test_remote_results_become_counts_with_memory():
    result = _primitive_result({"anc": (1, ["1", "0", "1", "1"]), "tomo": (2, ["01", "01", "11", "00"])})
    counts = retrieve(_remote(), service=FakeService({"job-1": FakeJob("DONE", result)}))
    assert counts["c0"].registers["tomo"].counts == {"00": 1, "01": 2, "11": 1}
    assert counts["c0"].registers["anc"].memory == ("1", "0", "1", "1")


@pytest.mark.parametrize(
    ("job", "message"),
    [
        (
            FakeJob("ERROR", error="Error code 3211; Job not valid\nmore"),
            "job job-1 on ibm_torino failed: Error code 3211",
        ),
        (FakeJob("CANCELLED"), "job job-1 on ibm_torino was cancelled"),
        (FakeJob("QUEUED"), "job job-1 on ibm_torino is QUEUED; collect again when it has finished"),
        (
            FakeJob("DONE", None),
            "job job-1 on ibm_torino returned no primitive result",
        ),
    ],
)
def test_failed_cancelled_and_pending_jobs_are_one_line(job, message):
    with pytest.raises(QbhwError, match=message) as info:
        retrieve(_remote(), service=FakeService({"job-1": job}))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("registers", "num_pubs", "message"),
    [
        ({"anc": (1, ["1"] * 4), "tomo": (2, ["00"] * 4)}, 2, "partial result: 2 of 1 circuits"),
        ({"anc": (1, ["1"] * 4)}, 1, "partial result: circuit 'c0' lacks register 'tomo'"),
        ({"anc": (1, ["1"] * 3), "tomo": (2, ["00"] * 3)}, 1, "register 'anc' has 3 shots of 1 bits"),
        ({"anc": (1, ["1"] * 4), "tomo": (3, ["000"] * 4)}, 1, "register 'tomo' has 4 shots of 3 bits"),
    ],
)
def test_partial_results_are_refused(registers, num_pubs, message):
    result = _primitive_result(registers, num_pubs)
    with pytest.raises(QbhwError, match=message):
        retrieve(_remote(), service=FakeService({"job-1": FakeJob("DONE", result)}))


def test_unknown_job_id_is_one_line():
    with pytest.raises(QbhwError, match="job job-1 on ibm_torino could not be retrieved: RuntimeError: Job not found"):
        retrieve(_remote(), service=FakeService({}))


# ------------------------------------------------------------------------------------------------ credentials


def _isolated_env(tmp_path, **extra):
    """An environment with its own empty HOME and no QISKIT_* variables (no saved account reachable)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QISKIT")}
    env.update(HOME=str(home), **extra)
    return env


def _run(script, env, cwd):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


_CIRCUIT = """
    from qiskit import QuantumCircuit
    qc = QuantumCircuit(2, 2, name="c0")
    qc.x(0)
    qc.measure([0, 1], [0, 1])
"""


@needs_runtime
@pytest.mark.slow
def test_missing_credentials_is_one_line_naming_the_ways_and_nothing_else(tmp_path):
    script = (
        _CIRCUIT
        + """
    from qbhw.errors import QbhwError
    from qbhw.experiments._runtime import JobsRecord, retrieve, submit
    try:
        submit([qc], backend="ibm_torino", shots=100, local=False)
    except QbhwError as exc:
        print(exc)
    record = {"format": "qbhw-jobs/1", "backend": "ibm_torino", "local": False, "primitive": "executor",
              "runtime_version": "0.51.0", "submitted_utc": "2026-01-01T00:00:00Z", "options": {}, "tags": [],
              "jobs": [{"job_id": "abc", "shots": 100, "circuits": [{"name": "c0", "registers": [
                  {"name": "c", "num_bits": 2}]}], "seed_simulator": None, "twirled": False, "results": None}]}
    try:
        retrieve(JobsRecord.from_dict(record))
    except QbhwError as exc:
        print(exc)
    """
    )
    out = _run(script, _isolated_env(tmp_path), tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert out.stdout.splitlines() == [NO_CREDENTIALS, NO_CREDENTIALS]
    assert "QISKIT_IBM_TOKEN" in NO_CREDENTIALS and "save_account" in NO_CREDENTIALS
    # qiskit-ibm-runtime creates an empty account file when it looks for one; nothing is saved into it
    for path in (tmp_path / "home").rglob("*"):
        assert not path.is_file() or json.loads(path.read_text()) == {}, path


@needs_runtime
@pytest.mark.slow
def test_fake_secrets_never_reach_a_file_or_the_terminal(tmp_path):
    """Fake credentials in the environment; a bundle is written, submitted locally, its jobs record written and its
    counts retrieved and dumped; then a remote submission with the same secrets fails against an unreachable URL.
    No file anywhere under the temporary directory (bundle and HOME) and no output contains the secrets."""
    secret = "FAKE-SECRET-7f3a9c"
    env = _isolated_env(
        tmp_path,
        QISKIT_IBM_TOKEN=f"{secret}-token",
        QISKIT_IBM_INSTANCE=f"crn:v1:{secret}-instance",
        QISKIT_IBM_CHANNEL="ibm_quantum_platform",
        QISKIT_IBM_URL="http://127.0.0.1:9",
    )
    script = (
        _CIRCUIT
        + """
    from qiskit import transpile
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2
    from qbhw.errors import QbhwError
    from qbhw.experiments.bundle import BundleCounts, SECTIONS, dump_counts, read_bundle, write_bundle
    from qbhw.experiments._runtime import read_jobs, retrieve, submit, write_jobs
    isa = transpile(qc, backend=FakeManilaV2(), initial_layout=[0, 1], seed_transpiler=1)
    manifest = write_bundle("bundle", [isa], {s: {} for s in SECTIONS}, shots=64)
    manifest, circuits = read_bundle("bundle")
    record = submit(list(circuits), backend="fake_manila", shots=64, local=True, seed=1,
                    tags=[manifest.job_tag()])
    write_jobs("bundle", record)
    counts = retrieve(read_jobs("bundle"))
    dump_counts(BundleCounts(counts, bundle=manifest.content_hash()), "bundle/counts.json")
    print("local round trip done")
    try:
        submit(list(circuits), backend="ibm_torino", shots=64, local=False)
    except QbhwError as exc:
        print(exc)
    """
    )
    out = _run(script, env, tmp_path)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "local round trip done"
    assert len(lines) == 2 and lines[1].startswith("could not open IBM Quantum")
    assert secret not in out.stdout and secret not in out.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.relative_to(tmp_path).as_posix() for p in written} >= {
        "bundle/manifest.json",
        "bundle/circuits.qpy",
        "bundle/qasm3/c0.qasm",
        "bundle/jobs.json",
        "bundle/counts.json",
    }
    for path in written:
        assert secret.encode() not in path.read_bytes(), path
    jobs = json.loads((tmp_path / "bundle" / JOBS_FILE).read_text())
    manifest = read_manifest(tmp_path / "bundle")
    assert jobs["local"] is True and jobs["tags"] == jobs["options"]["job_tags"] == [manifest.job_tag()]
    check_counts(manifest, load_counts(tmp_path / "bundle" / "counts.json"))  # every circuit, its shots, this bundle


# ------------------------------------------------------------------------------------------------ local simulators


@needs_runtime
def test_restricted_noise_model_keeps_exactly_the_errors_on_the_used_qubits(manila):
    from qiskit_aer.noise import NoiseModel

    from qbhw.experiments._runtime import _restricted_noise

    full = NoiseModel.from_backend(manila)
    part = _restricted_noise(full, {3, 4})
    kept = {(name, q) for name, by_q in part._local_quantum_errors.items() for q in by_q}
    expected = {(name, q) for name, by_q in full._local_quantum_errors.items() for q in by_q if set(q) <= {3, 4}}
    assert kept == expected and ("cx", (3, 4)) in kept and ("sx", (0,)) not in kept
    assert set(part._local_readout_errors) == {(3,), (4,)}
    assert part._custom_noise_passes == full._custom_noise_passes  # the relaxation of delays
    for name, q in kept:  # the same error objects, not approximations of them
        assert part._local_quantum_errors[name][q] == full._local_quantum_errors[name][q]


@needs_runtime
def test_local_jobs_on_the_restricted_noise_model_give_the_counts_of_the_whole_one(manila, circuits):
    """The runtime's local executor with the fake's whole noise model and with qbhw's restricted one: at the same seed
    the very same shots (the errors of instructions on other qubits never act, and the random stream is the same)."""
    from qiskit_aer import AerSimulator
    from qiskit_ibm_runtime.executor_sampler import Sampler

    from qbhw.experiments._runtime import _submission_copy, submit

    record = submit(circuits[:2], backend=manila, shots=300, local=True, seed=21)
    for job in record.jobs:
        sampler = Sampler(mode=AerSimulator.from_backend(manila))
        sampler.options.default_shots = 300
        sampler.options.simulator.seed_simulator = job.seed_simulator
        qc = next(c for c in circuits if c.name == job.circuits[0].name)
        whole = sampler.run([_submission_copy(qc)]).result()[0].data
        for reg in ("anc", "tomo"):
            assert tuple(getattr(whole, reg).get_bitstrings()) == job.results[qc.name].registers[reg].memory


def test_backend_family_names_the_device_a_fake_is_a_snapshot_of():
    from qbhw.experiments._runtime import _family

    assert {_family(n) for n in ("fake_torino", "FakeTorino", "ibm_torino", "FakeTorinoV2", "TORINO")} == {"torino"}
    assert _family("fake_manila") != _family("fake_torino")


def test_jobs_record_carries_the_bundle_and_refuses_a_malformed_other_backend(tmp_path):
    import dataclasses

    record = dataclasses.replace(_record(), bundle="a" * 64, device="fake_manila", other_backend=True)
    back = JobsRecord.from_dict(json.loads(json.dumps(record.to_dict())))
    assert (back.bundle, back.device, back.other_backend) == ("a" * 64, "fake_manila", True)
    old = {k: v for k, v in _record().to_dict().items() if k not in ("bundle", "device", "other_backend")}
    assert JobsRecord.from_dict(old).bundle is None  # records without the bundle keys still read
    with pytest.raises(QbhwError, match="other_backend must be true or false"):
        JobsRecord.from_dict({**record.to_dict(), "other_backend": "yes"})
