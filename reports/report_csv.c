/*
 * ticktape reports: the trade list as CSV.
 *
 * How this works: one header line, then one line per closed trade in close
 * order. Times are ISO 8601 UTC with milliseconds, prices exact decimals with
 * the instrument's digits, money exact decimals in currency units, volume in
 * lots (and the raw qty). No field can hold a comma or a quote (symbols are
 * plain words), so nothing needs quoting.
 */
#include "report_internal.h"

int tt_report_trades_csv(const tt_report_input *in, const char *path, tt_err *err)
{
    char tmp[4200];
    FILE *f = tt_report_open_tmp(path, tmp, sizeof tmp, err);
    if (!f)
        return err ? err->code : TT_EIO;
    int64_t minor = tt_report_minor(in);
    fputs("id,symbol,side,lots,qty,open_time,open_price,close_time,close_price,pnl,commission,"
          "swap,net,close_reason,mae_points,mfe_points,open_order,close_order\n",
          f);
    for (size_t i = 0; i < in->ntrades; i++) {
        const tt_trade_record *t = &in->trades[i];
        char sym[32], lots[32], ot[48], ct[48], op[48], cp[48], pnl[48], com[48], sw[48], net[48];
        const char *s = tt_report_symbol(in->instruments, t->symbol, sym, sizeof sym);
        tt_report_lots(in, t->symbol, t->qty, lots, sizeof lots);
        tt_ts_format(t->open_ts, ot, sizeof ot, 0);
        tt_ts_format(t->close_ts, ct, sizeof ct, 0);
        tt_report_price(in->instruments, t->symbol, t->open_price, op, sizeof op);
        tt_report_price(in->instruments, t->symbol, t->close_price, cp, sizeof cp);
        tt_report_money(t->pnl, minor, pnl, sizeof pnl);
        tt_report_money(t->commission, minor, com, sizeof com);
        tt_report_money(t->swap, minor, sw, sizeof sw);
        tt_report_money(t->net, minor, net, sizeof net);
        fprintf(f, "%llu,%s,%s,%s,%lld,%s,%s,%s,%s,%s,%s,%s,%s,%s,%lld,%lld,%llu,%llu\n",
                (unsigned long long)t->id, s, t->side == TT_BUY ? "buy" : "sell", lots,
                (long long)t->qty, ot, op, ct, cp, pnl, com, sw, net,
                tt_trade_close_reason_name(t->close_reason), (long long)t->mae_points,
                (long long)t->mfe_points, (unsigned long long)t->open_order,
                (unsigned long long)t->close_order);
    }
    return tt_report_commit(f, tmp, path, err);
}
