#!/usr/bin/env python3
"""Write the fuzzers' seed corpus (tests/fuzz/corpus/NAME/): a few valid inputs each,
so that libFuzzer starts from the paths a Linux host and rpc.py take."""
import json, os, struct

HERE = os.path.dirname(os.path.abspath(__file__))
NQN = b"nqn.2016-06.io.spdk:fuzz"
HOST = b"nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-00000000f00d"


def put(name, seed, data):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, seed), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def sqe(opc, cid=1, nsid=0, cdw10=0, cdw11=0, cdw12=0, sgl=b"", flags=0x40):
    dptr = sgl.ljust(16, b"\0")
    return struct.pack("<BBHI8x8x", opc, flags, cid, nsid) + dptr + struct.pack(
        "<6I", cdw10, cdw11, cdw12, 0, 0, 0)


def keyed(length, key=0x1234, addr=0x10000):
    return struct.pack("<Q", addr) + length.to_bytes(3, "little") + struct.pack("<I", key) + bytes([0x40])


def icd(length):
    return struct.pack("<QI3xB", 0, length, 0x01)


def rec(queue, cmd, data=b""):
    return bytes([queue]) + cmd + struct.pack("<H", len(data)) + data


# ---- config and RPC ----
bdev = {"subsystem": "bdev", "config": [
    {"method": "bdev_malloc_create", "params": {"name": "m0", "num_blocks": 2048, "block_size": 512}},
    {"method": "bdev_null_create", "params": {"name": "n0", "num_blocks": 2048, "block_size": 4096}},
    {"method": "bdev_delay_create", "params": {"name": "d0", "base_bdev_name": "n0",
     "avg_read_latency": 10, "p99_read_latency": 20, "avg_write_latency": 10, "p99_write_latency": 20}}]}
listen = {"trtype": "RDMA", "adrfam": "IPv4", "traddr": "10.0.0.1", "trsvcid": "4420"}
nvmf = {"subsystem": "nvmf", "config": [
    {"method": "nvmf_set_max_subsystems", "params": {"max_subsystems": 8}},
    {"method": "nvmf_create_transport", "params": {"trtype": "RDMA", "max_queue_depth": 64}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "nqn.2014-08.org.nvmexpress.discovery",
                                                         "listen_address": listen}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": NQN.decode(), "serial_number": "SN1",
                                                   "model_number": "MN", "min_cntlid": 1, "max_cntlid": 9}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": NQN.decode(), "namespace": {
        "bdev_name": "m0", "nsid": 1, "no_auto_visible": True}}},
    {"method": "nvmf_ns_add_host", "params": {"nqn": NQN.decode(), "nsid": 1, "host": HOST.decode()}},
    {"method": "nvmf_subsystem_add_host", "params": {"nqn": NQN.decode(), "host": HOST.decode()}},
    {"method": "nvmf_discovery_add_referral", "params": {"address": listen}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": NQN.decode(), "listen_address": listen}}]}
put("fuzz_config", "full.json", json.dumps({"subsystems": [bdev, nvmf]}, indent=2))
put("fuzz_config", "comments-batch.json",
    '{"subsystems": [ /* c */ {"subsystem": "nvmf", "config": [[{"method": "nvmf_set_config", '
    '"params": {}}], null]}, {"subsystem": "iobuf", "config": null}]} // end\n')

reqs = [("spdk_get_version", None), ("rpc_get_methods", {"current": True})]
for e in bdev["config"] + nvmf["config"]:
    reqs.append((e["method"], e["params"]))
reqs += [("nvmf_get_subsystems", None), ("bdev_get_bdevs", {"name": "m0"}),
         ("nvmf_subsystem_get_controllers", {"nqn": NQN.decode()}), ("nvmf_get_stats", None),
         ("framework_get_config", {"name": "nvmf"}),
         ("nvmf_subsystem_remove_ns", {"nqn": NQN.decode(), "nsid": 1}),
         ("bdev_null_delete", {"name": "n0"}), ("nvmf_delete_subsystem", {"nqn": NQN.decode()}),
         ("framework_wait_init", None), ("spdk_kill_instance", {"sig_name": "SIGTERM"})]
stream = ""
for i, (m, p) in enumerate(reqs):
    r = {"jsonrpc": "2.0", "method": m, "id": i + 1}
    if p is not None:
        r["params"] = p
    stream += json.dumps(r, indent=2) + "\n"
put("fuzz_rpc", "running-all", "\x03" + stream)
put("fuzz_rpc", "startup-split", "\x00" + stream[:300])
put("fuzz_rpc", "batch-notify",
    '\x01[{"jsonrpc":"2.0","method":"x"}]{"jsonrpc":"2.0","method":"log_set_level","params":{"level":"ERROR"}}')

# ---- capsules: what Linux sends after Connect, then I/O ----
caps = b"".join([
    rec(0, sqe(0x7F, nsid=0x04, cdw10=1, cdw11=0x00)),                     # Property Get CAP
    rec(0, sqe(0x06, cdw10=1, sgl=icd(4096)), bytes(4096)),                # Identify ctrlr
    rec(0, sqe(0x09, cdw10=0x07, cdw11=0x00010001)),                       # Set Features queues
    rec(0, sqe(0x06, cdw10=2, sgl=icd(4096)), bytes(4096)),                # active ns list
    rec(0, sqe(0x06, nsid=1, cdw10=0, sgl=icd(4096)), bytes(4096)),        # Identify ns
    rec(0, sqe(0x06, nsid=1, cdw10=3, sgl=icd(4096)), bytes(4096)),        # descriptors
    rec(0, sqe(0x09, cdw10=0x0B, cdw11=0x100)),                            # AEC
    rec(0, sqe(0x0C, cid=31)),                                              # AER
    rec(0, sqe(0x02, nsid=0xFFFFFFFF, cdw10=0x02 | (127 << 16), sgl=icd(512)), bytes(512)),  # SMART
    rec(0, sqe(0x02, cdw10=0x04 | (1023 << 16), sgl=icd(4096)), bytes(4096)),  # changed ns
    rec(0, sqe(0x18)),                                                      # Keep Alive
    rec(1, sqe(0x01, nsid=1, cdw10=8, cdw12=7, sgl=icd(4096)), bytes(range(256)) * 16),  # write
    rec(1, sqe(0x02, nsid=1, cdw10=8, cdw12=7, sgl=keyed(4096))),           # read (keyed SGL)
    rec(1, sqe(0x08, nsid=1, cdw10=0, cdw12=15)),                           # write zeroes
    rec(1, sqe(0x09, nsid=1, cdw10=0, cdw11=4, sgl=icd(16)), struct.pack("<IIQ", 0, 8, 16)),  # DSM
    rec(1, sqe(0x00, nsid=1)),                                              # flush
    rec(0, sqe(0x7F, nsid=0x00, cdw11=0x14, cdw12=0x4001)),                # Property Set CC shutdown
])
put("fuzz_capsule", "linux-session", caps)
put("fuzz_capsule", "keyed-list", rec(1, sqe(0x02, nsid=1, cdw12=63,
    sgl=struct.pack("<QI3xB", 0, 32, 0x30)), keyed(16384) + keyed(16384)))

# ---- connect: CM private data, admin Connect, I/O Connect ----
def connect(qid, sqsize, cntlid):
    cmd = sqe(0x7F, cid=0x10, nsid=0x01, cdw10=qid << 16, cdw11=sqsize, cdw12=15000,
              sgl=icd(1024))
    data = bytes(16) + struct.pack("<H", cntlid) + bytes(238) + NQN.ljust(256, b"\0") + \
        HOST.ljust(256, b"\0") + bytes(256)
    return cmd + data


pdata = struct.pack("<HHHH", 0, 0, 32, 31).ljust(32, b"\0")
put("fuzz_connect", "admin-then-io",
    struct.pack("<H", len(pdata)) + pdata + connect(0, 31, 0xFFFF) + connect(1, 127, 1))
