import json, collections, sys
def occ(s,t):
    out=[];i=s.find(t)
    while i!=-1: out.append((i,i+len(t))); i=s.find(t,i+1)
    return out
det=[json.loads(l) for l in open("details.jsonl")]
nop=[json.loads(l) for l in open("not_pii.jsonl")]
txt={}
def T(p):
    if p not in txt: txt[p]=open(f"packets/{p}.md",encoding="utf-8").read()
    return txt[p]
bad=0
seen=set()
for d in det:
    if (d["packet"],d["text"]) in seen: print("DUP",d); bad+=1
    seen.add((d["packet"],d["text"]))
    if d["text"] not in T(d["packet"]): print("MISSING detail",d); bad+=1
for n in nop:
    s=T(n["packet"])
    if n["text"] not in s: print("MISSING not_pii",n); bad+=1; continue
    for d in det:
        if d["packet"]!=n["packet"]: continue
        for a in occ(s,n["text"]):
            for b in occ(s,d["text"]):
                if a[0]<b[1] and b[0]<a[1]: print("OVERLAP",n,d); bad+=1
    # case-insensitive overlap (informational)
    for d in det:
        if d["packet"]!=n["packet"]: continue
        for a in occ(s.lower(),n["text"].lower()):
            for b in occ(s.lower(),d["text"].lower()):
                if a[0]<b[1] and b[0]<a[1]: print("ci-overlap (info)",n["text"],d["text"])
for r in open("roster.txt",encoding="utf-8").read().split("\n"):
    if r.strip() and not any(r in T(p) for p in [f"p2-{i:03d}" for i in range(1,11)]): print("ROSTER missing",r); bad+=1
per=collections.Counter(d["packet"] for d in det); fam=collections.Counter(d["family"] for d in det)
print("per packet",dict(per)); print("families",dict(fam)); print("total",len(det),"not_pii",len(nop))
assert all(8<=v<=12 for v in per.values()) and len(det)>=90 and len(nop)>=15
print("OK" if not bad else f"{bad} problems"); sys.exit(1 if bad else 0)
