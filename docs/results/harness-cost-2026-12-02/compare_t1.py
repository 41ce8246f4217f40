import statistics, subprocess, sys, time
new, main, llama, model, pairs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
flags = ["-p", "16,32,64,128", "-n", "16,32", "-t", "1", "-r", "5"]
cmds = {"accel (this branch)": [new, "bench", "--no-store", "-m", model, "--format", "jsonl"] + flags,
        "accel (main, before)": [main, "bench", "--no-store", "-m", model, "--format", "jsonl"] + flags,
        "llama-bench": [llama, "-m", model, "-o", "jsonl"] + flags}
def wall(cmd):
    t0 = time.perf_counter(); subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0
print("load average at the start:", open("/proc/loadavg").read().split()[0])
for c in cmds.values(): wall(c)
t = {k: [] for k in cmds}
names = list(cmds)
for i in range(pairs):
    order = names if i % 2 == 0 else names[::-1]
    for k in order: t[k].append(wall(cmds[k]))
lb = t["llama-bench"]
for k in names:
    r = [a / b for a, b in zip(t[k], lb)]
    print(f"| {k} | {statistics.median(t[k]):.3f} | {statistics.median(r):.2f} | {min(r):.2f}-{max(r):.2f} |")
print("load average at the end:", open("/proc/loadavg").read().split()[0])
