#!/usr/bin/env python3
"""What a semi-static context coder would make of a quote tape: the honest size,
stored tables and escapes included (third session, 2026-11-21; docs/benchmarks.md,
"Tape size on the real sample").

usage: ticktape tape export TAPE --symbol S --time-format epoch-ms > ticks.csv
       /usr/bin/python3 scripts/tape_static_model.py ticks.csv [POINTS]   (POINTS default 100000)

The design priced here is the best of a search over decompositions and contexts
that a table-driven (static rANS) decoder could follow at about five symbol
decodes per tick: the time delta as a ~51 ms grid cell (given the previous cell
and whether the hour is a busy one) plus its residual; the (bid, ask) move as
one symbol given the spread and the previous move's signs; each volume as
"same as before" or its value in hundredths, given its previous value's class
and its side's move. Each context has a frequency table (4096 total, 4
significant bits per frequency) stored in the block; rare values escape to a
shared order-0 table and then to Elias-gamma. Printed: bytes per tick for
several block sizes, per field, with the free-table conditional entropy of the
same contexts next to it, and each day of the sample on its own.
"""
import math
import sys

import numpy as np
import pandas as pd

d = pd.read_csv(sys.argv[1])
PTS = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
t = d.time.values.astype(np.int64)
bid = (d.bid * PTS).round().astype(np.int64).values
ask = (d.ask * PTS).round().astype(np.int64).values
kb = (d.bid_volume * 100).round().astype(np.int64).values
ka = (d.ask_volume * 100).round().astype(np.int64).values

LOG2 = np.log2

# ---- the cost model ----
LOG2 = np.log2
def gamma_bits(v):  # Elias gamma for v>=1
    v = np.asarray(v, dtype=np.float64)
    return 2*np.floor(np.log2(np.maximum(v,1)))+1
def freq_code_bits(f):
    # freq f>=1 stored as Elias-gamma exponent + up to 3 mantissa bits (4 significant bits)
    e = np.floor(np.log2(np.maximum(f,1)))
    return gamma_bits(e+1) + np.minimum(e,3)
def round4(f):
    f = np.maximum(np.asarray(f,dtype=np.float64),1.0)
    e = np.floor(np.log2(f)); sh = np.maximum(e-3,0)
    return np.maximum(np.round(f/2**sh)*2**sh,1)
def quant_cost(counts, M):
    """exact bits sum k*log2(M/f) with 4-significant-bit freqs, the largest implied (M - rest)."""
    counts = np.asarray(counts, dtype=np.float64); N = counts.sum()
    if len(counts) == 1: return 0.0, 0.0
    f = round4(counts*M/N)
    im = np.argmax(counts)
    rest = f.sum()-f[im]
    Mp = float(M)
    while M-rest < max(1.0, 0.02*M*counts[im]/N):   # shrink others if the largest got squeezed
        Mp *= 0.97
        f = round4(counts*Mp/N); rest = f.sum()-f[im]
        if Mp < 1e-3: return float('inf'), 0.0
    f[im] = M-rest
    bits = (counts*np.log2(M/f)).sum()
    tb = freq_code_bits(np.delete(f,im)).sum()
    return bits, tb

class Field:
    def __init__(s, name, x, ctx, raw_bits, M=4096, nctx=None):
        s.name=name; s.x=np.asarray(x,dtype=np.int64); s.ctx=np.asarray(ctx,dtype=np.int64)
        s.raw_bits=raw_bits; s.M=M

def table_cost(syms_idx_sorted, nA):
    # entry count + gaps in the field alphabet index
    m = len(syms_idx_sorted)
    if m == 0: return gamma_bits(1)
    gaps = np.diff(np.r_[-1, syms_idx_sorted])
    return float(gamma_bits(m+1) + gamma_bits(gaps).sum())

def ctx_cost(vals, cnts, fb, M, alpha_index, est_entry=8.0):
    """choose escaped set = symbols with count <= thr (thr from a grid), exact quantized cost"""
    cnts = np.asarray(cnts, dtype=np.float64)
    best=None
    for thr in [0,1,2,3,4,5,6,8,10,12,16,20,24,32,48,64,96,128]:
        esc = np.nonzero(cnts <= thr)[0]; inc = np.nonzero(cnts > thr)[0]
        if len(inc)==0: 
            if thr>0: break
        E = cnts[esc].sum()
        cc = np.r_[cnts[inc], [E] if E>0 else []]
        qbits, fbits = quant_cost(cc, M)
        tb = table_cost(np.sort(alpha_index[inc]), None) + 1 + fbits
        eb = (cnts[esc]*fb[esc]).sum()
        tot = qbits+tb+eb
        if best is None or tot < best[0]: best=(tot,qbits,tb,esc,eb)
        if len(inc)==0: break
    return best[1],best[2],best[3],best[4]

def field_block_cost(x, ctx, raw_bits, M=4096, iters=2):
    """x, ctx arrays for one block. raw_bits: function values->bits for raw escape.
    Two-level: context tables -> escape -> order-0 fallback table -> escape -> raw."""
    vals_all, inv = np.unique(x, return_inverse=True)
    cvals, cinv = np.unique(ctx, return_inverse=True)
    raw = raw_bits(vals_all).astype(np.float64)
    # per context counts
    nC = len(cvals); nV=len(vals_all)
    pair = cinv*nV+inv
    pv, pc = np.unique(pair, return_counts=True)
    groups = [(pv[(pv//nV)==c] % nV, pc[(pv//nV)==c]) for c in range(nC)]
    fb = raw.copy()  # cost of an escaped symbol
    for it in range(iters+1):
        total=0.0; tbits=0.0; escaped=np.zeros(nV); escbits_ctx=0.0
        used = np.zeros(nV,bool)
        details=[]
        for vi,cnt in groups:
            q,tb,esc,eb = ctx_cost(vals_all[vi],cnt,fb[vi],M,vi)
            total+=q; tbits+=tb
            escaped[vi[esc]] += cnt[esc]
            m = np.ones(len(vi),bool); m[esc]=False; used[vi[m]]=True
        # fallback order-0 table over escaped symbols
        ei = np.nonzero(escaped)[0]
        fbq=fbt=fbe=0.0
        newfb = raw.copy()
        if len(ei):
            q,tb,esc,eb = ctx_cost(vals_all[ei],escaped[ei],raw[ei],M,ei)
            fbq, fbt, fbe = q, tb, eb
            inc = np.ones(len(ei),bool); inc[esc]=False
            used[ei[inc]]=True
            # approx per-symbol fallback cost for next iteration
            Nf = escaped[ei].sum()
            newfb[ei[inc]] = np.log2(Nf/escaped[ei[inc]])
            Ef = escaped[ei[esc]].sum()
            if Ef>0: newfb[ei[esc]] = np.log2(Nf/Ef)+raw[ei[esc]]
            newfb[escaped==0] = np.log2(max(Nf,1))+raw[escaped==0]
        else:
            newfb = raw + 0
        fb = newfb
    # field alphabet: used values sorted, deltas gamma coded (zigzag first)
    uv = vals_all[used]
    if len(uv):
        d = np.diff(np.r_[0, uv]); d[0] = 2*abs(d[0])+(d[0]<0)
        abits = float(gamma_bits(len(uv)+1) + gamma_bits(d+1).sum())
    else: abits = float(gamma_bits(1))
    nesc1 = escaped.sum()
    return dict(code=total+fbq, table=tbits+fbt+abits, esc=fbe, nesc=nesc1)

def field_cost(x, ctx, raw_bits, block, M=4096):
    n=len(x); out=dict(code=0,table=0,esc=0,nesc=0)
    for s in range(0,n,block):
        r = field_block_cost(x[s:s+block], ctx[s:s+block], raw_bits, M)
        for k in out: out[k]+=r[k]
    out['total']=out['code']+out['table']+out['esc']
    return out

# ---- entropies ----
def key(*cols):
    k = np.zeros(len(cols[0]), dtype=np.int64)
    for c in cols:
        c = np.asarray(c, dtype=np.int64)
        _, inv = np.unique(c, return_inverse=True)
        k = k * (inv.max()+1) + inv
    return k
def H(x):
    _, c = np.unique(x, return_counts=True); p = c/c.sum()
    return -(p*np.log2(p)).sum()
def Hc(x, *ctx):
    if not ctx: return H(x)
    return H(key(x,*ctx)) - H(key(*ctx))

# ---- the fields ----
dt = np.diff(t); n=len(dt)
db=np.diff(bid); da=np.diff(ask); sp=(ask-bid)
def zz(v): v=np.asarray(v,dtype=np.int64); return np.where(v>=0,2*v,-2*v-1)
def dt_tok(dt, L=1024):
    dt=np.asarray(dt,dtype=np.int64)
    e = np.floor(np.log2(np.maximum(dt,1))).astype(np.int64)
    lgL = int(math.log2(L))
    m2 = (dt >> np.maximum(e-2,0)) & 3
    tok = np.where(dt < L, dt, L + 4*(e-lgL) + m2)
    extra = np.where(dt < L, 0, e-2)
    return tok, extra
def lb(x): return np.floor(np.log2(np.maximum(x,1))).astype(np.int64)
PAIRB = 1<<12
pair = zz(db)*PAIRB + zz(da)
def pair_raw(v): return gamma_bits(v//PAIRB+1)+gamma_bits(v%PAIRB+1)
vol_raw = lambda v: gamma_bits(v+1)
tok_raw = lambda v: np.full(len(v), 12.0)
kb1=kb[1:]; ka1=ka[1:]; kb0=kb[:-1]; ka0=ka[:-1]
hour = ((t[1:]//3600000)%24)
def report(parts, block, label=''):
    tot=0; s=[]
    for name,(x,c,raw,extra) in parts.items():
        r = field_cost(x,c,raw,block)
        b = (r['total']+extra)/n
        tot+=b
        s.append(f"{name}={b:.3f}b(code {r['code']/n:.3f} tab {r['table']/n:.3f} esc {(r['esc']+extra)/n:.3f} nctx {len(np.unique(c))})")
    print(f"{label} block={block}: {tot/8:.4f} B/tick ({tot:.3f} bits) :: " + '; '.join(s), flush=True)
    return tot/8

# ---- the design ----
def topk_class(prev, ref, k):
    vals,cnt=np.unique(ref,return_counts=True); top=vals[np.argsort(-cnt)[:k]]
    cls=np.full(len(prev),k,dtype=np.int64)
    for i,v in enumerate(top): cls[prev==v]=i
    return cls
hr=hour; cnt=np.bincount(hr,minlength=24); act=np.argsort(np.argsort(cnt))
G=51.15
q=np.round(dt/G).astype(np.int64); small=dt<1024
e=np.floor(np.log2(np.maximum(dt,1))).astype(np.int64)
co=np.where(small,q,100+(e-10)*4+((dt>>np.maximum(e-2,0))&3))
res=np.where(small,dt-np.round(q*G).astype(np.int64),0); ex=np.where(small,0,e-2)
pco=np.r_[0,co[:-1]]
sdb=np.sign(db); sda=np.sign(da); mv=sdb*3+sda+4; pmv=np.r_[4,mv[:-1]]
spb=np.clip(sp[:-1],1,6)-1
cb=topk_class(kb0,kb,3); ca=topk_class(ka0,ka,3)
tb_=np.where(kb1==kb0,0,kb1); ta_=np.where(ka1==ka0,0,ka1)
F=[('dt coarse (prev coarse x activity)',co,np.minimum(pco,12)*2+(act[hr]>=12),tok_raw,None),
   ('dt residual (| coarse)',res,np.where(small,np.minimum(co,20),21),lambda v: gamma_bits(zz(v)+1),small),
   ('(bid,ask) move (| spread, prev move)',pair,spb*9+pmv,pair_raw,None),
   ('bid vol (same-flag | prev cls, bid move)',tb_,cb*3+sdb+1,vol_raw,None),
   ('ask vol (same-flag | prev cls, ask move)',ta_,ca*3+sda+1,vol_raw,None)]
day=(t[1:]//86400000); d0=day==day[0]
def run(B,M,mask,label):
    nn=mask.sum(); tot=0; lines=[]; Hs=0
    for nm,x,c,raw,sub in F:
        m=mask if sub is None else (mask&sub)
        r=field_cost(x[m],c[m],raw,B,M)
        b=r['total']/nn; tot+=b
        h=Hc(x[m],c[m])*m.sum()/nn; Hs+=h
        lines.append(f'    {nm:45s} {b:6.3f} bits (code {r["code"]/nn:.3f}, tables {r["table"]/nn:.3f}, raw-escape {r["esc"]/nn:.3f}; free-table cond. entropy {h:.3f})')
    xb=ex[mask].sum()/nn; tot+=xb; Hs+=xb
    lines.append(f'    {"dt raw mantissa bits (dt>=1024)":45s} {xb:6.3f} bits')
    print(f'{label} block={B} M={M}: {tot:.3f} bits = {tot/8:.4f} B/tick  (same contexts with free tables: {Hs/8:.4f} B/tick)')
    print('\n'.join(lines),flush=True)
all_=np.ones(n,bool)
for B in [8192,65536,n]: run(B,4096,all_,'ALL')
run(n,1<<15,all_,'ALL')
run(n,4096,d0,'DAY1'); run(n,4096,~d0,'DAY2')
print('symbol decodes/tick: dt coarse 1 + residual %.3f + move 1 + vols 2 = %.3f (+escapes)'%(small.mean(),4+small.mean()))
