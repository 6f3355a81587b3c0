/*
 * --help text and docs/cli.md, generated from the option tables (cli/opts.h).
 *
 * Both views come from the same pieces: the synopsis (positionals, required
 * options, the options of a one-of rule, "[options]"), each row's left column
 * ("-o, --output FILE") and its notes ("(1 to 64; default: 4)", built from the
 * row's range, kind and default). The text help wraps each row's line at 79
 * columns under an aligned column; the Markdown puts the rows in a table.
 * about and epilog texts are printed as written (pre-wrapped paragraphs); in
 * Markdown, characters that would change their meaning there (* _ < > |)
 * are escaped outside `code spans`.
 */
#include <ctype.h>
#include <string.h>

#include "opts.h"

#define WIDTH 79    /* longest help line */
#define LEFT_MAX 24 /* longer left columns put their help on the next line */

void tt_opt_placeholder(const tt_opt *o, char *buf, size_t n)
{
    const char *ph = o->arg;
    if (!ph) {
        switch (o->kind) {
        case TT_OPT_INT:
        case TT_OPT_UINT: ph = "N"; break;
        case TT_OPT_DOUBLE: ph = "X"; break;
        case TT_OPT_DURATION: ph = "DUR"; break;
        case TT_OPT_TIME: ph = "T"; break;
        case TT_OPT_TIMEFRAME: ph = "TF"; break;
        case TT_OPT_ENUM: ph = NULL; break;
        default: ph = "VALUE"; break;
        }
    }
    if (ph) {
        snprintf(buf, n, "%s%s", ph, o->kind == TT_OPT_ARGS ? "..." : "");
        return;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; o->values[i] && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? "|" : "", o->values[i]);
}

void tt_opt_notes(const tt_opt *o, char *buf, size_t n)
{
    char parts[4][160];
    int k = 0;
    if ((o->flags & TT_OPT_REQUIRED) && o->name)
        snprintf(parts[k++], sizeof parts[0], "required");
    tt_opt_range(o, parts[k], sizeof parts[0]);
    if (parts[k][0])
        k++;
    if (o->kind == TT_OPT_LIST && o->max_count > 1)
        snprintf(parts[k++], sizeof parts[0], "repeatable");
    if (o->def || o->def_text)
        snprintf(parts[k++], sizeof parts[0], "default: %s", o->def ? o->def : o->def_text);
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < k && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%s%s", i ? "; " : "(", parts[i],
                                 i == k - 1 ? ")" : "");
}

/* "-o, --output FILE", "--json", "SCENARIO". */
static void left_text(const tt_opt *o, char *buf, size_t n)
{
    char ph[160], alias[8] = "";
    tt_opt_placeholder(o, ph, sizeof ph);
    if (!o->name) {
        snprintf(buf, n, "%s", ph);
        return;
    }
    if (o->alias)
        snprintf(alias, sizeof alias, "-%c, ", o->alias);
    snprintf(buf, n, "%s--%s%s%s", alias, o->name, o->kind == TT_OPT_FLAG ? "" : " ",
             o->kind == TT_OPT_FLAG ? "" : ph);
}

/* The words of text from column at, continuation lines indented to col. */
static void wrap(FILE *f, const char *text, int at, int col)
{
    int x = at, first = 1;
    for (const char *p = text; *p;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *w = p;
        while (*p && *p != ' ')
            p++;
        int len = (int)(p - w);
        if (!first && x + 1 + len > WIDTH) {
            fprintf(f, "\n%*s", col, "");
            x = col;
            first = 1;
        }
        if (!first) {
            fputc(' ', f);
            x++;
        }
        fwrite(w, 1, (size_t)len, f);
        x += len;
        first = 0;
    }
    fputc('\n', f);
}

static void print_block(FILE *f, const char *text)
{
    size_t n = strlen(text);
    fputs(text, f);
    if (n && text[n - 1] != '\n')
        fputc('\n', f);
}

static void rule_text(const tt_opt_rule *r, char *buf, size_t n)
{
    size_t used = (size_t)snprintf(buf, n, "%s",
                                   r->kind == TT_RULE_ONE_OF   ? "Give exactly one of "
                                   : r->kind == TT_RULE_ANY_OF ? "Give at least one of "
                                                               : "Give at most one of ");
    for (int i = 0; i < 4 && r->names[i] && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s--%s",
                                 i == 0 ? "" : r->names[i + 1] ? ", " : " and ", r->names[i]);
    if (used < n)
        snprintf(buf + used, n - used, ".");
}

void tt_cmd_synopsis(FILE *f, const tt_cmd *cmd)
{
    fprintf(f, "ticktape %s", cmd->name);
    tt_opt_iter it;
    size_t base;
    const tt_opt *o;
    char ph[160];
    int optional = 0;
    tt_opt_iter_init(&it, cmd->opts);
    while ((o = tt_opt_iter_next(&it, &base))) {
        tt_opt_placeholder(o, ph, sizeof ph);
        if (!o->name)
            fprintf(f, " %s", ph);
        else if (!(o->flags & TT_OPT_REQUIRED))
            optional = 1;
        else if (o->kind == TT_OPT_FLAG)
            fprintf(f, " --%s", o->name);
        else
            fprintf(f, " --%s %s", o->name, ph);
    }
    for (const tt_opt_rule *r = cmd->rules; r && r->kind != TT_RULE_END; r++) {
        if (r->kind == TT_RULE_EXCLUSIVE)
            continue;
        fputs(" (", f);
        for (int i = 0; i < 4 && r->names[i]; i++) {
            o = tt_cmd_find(cmd, r->names[i], NULL);
            if (!o) /* a bad table; tt_cmd_check says so */
                continue;
            tt_opt_placeholder(o, ph, sizeof ph);
            fprintf(f, "%s--%s%s%s", i ? " | " : "", o->name, o->kind == TT_OPT_FLAG ? "" : " ",
                    o->kind == TT_OPT_FLAG ? "" : ph);
        }
        fputc(')', f);
    }
    if (optional)
        fputs(" [options]", f);
    if (!cmd->opts && cmd->subs)
        fputs(" SUBCOMMAND ...", f);
}

/* The left column: wide enough for most rows, at most LEFT_MAX. */
static int left_column(const tt_cmd *cmd)
{
    int w = (int)strlen("-h, --help");
    tt_opt_iter it;
    size_t base;
    const tt_opt *o;
    char left[256];
    tt_opt_iter_init(&it, cmd->opts);
    while ((o = tt_opt_iter_next(&it, &base))) {
        left_text(o, left, sizeof left);
        int n = (int)strlen(left);
        if (n > w && n <= LEFT_MAX)
            w = n;
    }
    for (const tt_cmd *const *sub = cmd->subs; sub && *sub; sub++) {
        int n = (int)strlen(tt_cmd_word(*sub));
        if (n > w && n <= LEFT_MAX)
            w = n;
    }
    return 2 + w + 2;
}

static void help_row(FILE *f, const char *left, const char *help, const char *notes, int col)
{
    char text[1200];
    snprintf(text, sizeof text, "%s%s%s", help, notes[0] ? " " : "", notes);
    fprintf(f, "  %s", left);
    int x = 2 + (int)strlen(left);
    if (x + 2 > col)
        fprintf(f, "\n%*s", col, "");
    else
        fprintf(f, "%*s", col - x, "");
    wrap(f, text, col, col);
}

static void help_rows(FILE *f, const tt_cmd *cmd, int positional, int col)
{
    tt_opt_iter it;
    size_t base;
    const tt_opt *o;
    char left[256], notes[600];
    tt_opt_iter_init(&it, cmd->opts);
    while ((o = tt_opt_iter_next(&it, &base))) {
        if ((o->name == NULL) != positional)
            continue;
        left_text(o, left, sizeof left);
        tt_opt_notes(o, notes, sizeof notes);
        help_row(f, left, o->help, notes, col);
    }
}

static int has_positionals(const tt_cmd *cmd)
{
    tt_opt_iter it;
    size_t base;
    const tt_opt *o;
    tt_opt_iter_init(&it, cmd->opts);
    while ((o = tt_opt_iter_next(&it, &base)))
        if (!o->name)
            return 1;
    return 0;
}

void tt_cmd_help(FILE *f, const tt_cmd *cmd)
{
    fputs("usage: ", f);
    if (cmd->opts || !cmd->subs) {
        tt_cmd_synopsis(f, cmd);
        fputc('\n', f);
    }
    for (const tt_cmd *const *sub = cmd->subs; sub && *sub; sub++) {
        fputs(sub == cmd->subs && !cmd->opts ? "" : "       ", f);
        tt_cmd_synopsis(f, *sub);
        fputc('\n', f);
    }
    if (cmd->about) {
        fputc('\n', f);
        print_block(f, cmd->about);
    }
    int col = left_column(cmd);
    if (has_positionals(cmd)) {
        fputs("\narguments:\n", f);
        help_rows(f, cmd, 1, col);
    }
    if (cmd->opts || !cmd->subs) {
        fputs("\noptions:\n", f);
        help_rows(f, cmd, 0, col);
        help_row(f, "-h, --help", "this text", "", col);
    }
    for (const tt_opt_rule *r = cmd->rules; r && r->kind != TT_RULE_END; r++) {
        char text[400];
        rule_text(r, text, sizeof text);
        fputs(r == cmd->rules ? "\n" : "", f);
        wrap(f, text, 0, 0);
    }
    if (cmd->subs) {
        fputs("\nsubcommands:\n", f);
        for (const tt_cmd *const *sub = cmd->subs; *sub; sub++)
            help_row(f, tt_cmd_word(*sub), (*sub)->summary, "", col);
        fprintf(f, "\nsee 'ticktape %s SUBCOMMAND --help'\n", cmd->name);
        if (!cmd->opts) /* a group: it runs its subcommand, or refuses */
            fputs("\nexit codes: those of the subcommand; 2 usage error (no subcommand, or an\n"
                  "unknown one)\n",
                  f);
    }
    if (cmd->epilog) {
        fputc('\n', f);
        print_block(f, cmd->epilog);
    }
    if (cmd->more) {
        fputc('\n', f);
        print_block(f, cmd->more());
    }
}

/* ---- Markdown ---- */

/* Text with what would change its meaning in Markdown escaped, outside
 * `code spans`: '*', '_' at a word's edge, '<' before a tag-like character,
 * '>' opening a line; in a table cell also '|' (GFM needs it inside code
 * spans too) and newlines become spaces. */
static void md_text(FILE *f, const char *s, int cell)
{
    int code = 0;
    for (const char *p = s; *p; p++) {
        char c = *p, prev = p > s ? p[-1] : '\n', next = p[1];
        int word_prev = isalnum((unsigned char)prev), word_next = isalnum((unsigned char)next);
        if (c == '`')
            code = !code;
        if (c == '|' && cell)
            fputs("\\|", f);
        else if (c == '\n' && cell)
            fputc(' ', f);
        else if (code)
            fputc(c, f);
        else if (c == '*' || (c == '_' && !(word_prev && word_next)))
            fprintf(f, "\\%c", c);
        else if (c == '<' && (isalpha((unsigned char)next) || next == '/' || next == '!'))
            fputs("&lt;", f);
        else if (c == '>' && prev == '\n' && !cell)
            fputs("&gt;", f);
        else
            fputc(c, f);
    }
}

/* A code span in a table cell. */
static void md_code(FILE *f, const char *s)
{
    fputc('`', f);
    md_text(f, s, 1);
    fputc('`', f);
}

static void md_rows(FILE *f, const tt_cmd *cmd)
{
    tt_opt_iter it;
    size_t base;
    const tt_opt *o;
    char ph[160], notes[600], name[80];
    fputs("| argument or option | value | description |\n|---|---|---|\n", f);
    for (int positional = 1; positional >= 0; positional--) {
        tt_opt_iter_init(&it, cmd->opts);
        while ((o = tt_opt_iter_next(&it, &base))) {
            if ((o->name == NULL) != positional)
                continue;
            tt_opt_placeholder(o, ph, sizeof ph);
            tt_opt_notes(o, notes, sizeof notes);
            fputs("| ", f);
            if (o->alias)
                fprintf(f, "`-%c`, ", o->alias);
            snprintf(name, sizeof name, "--%s", o->name ? o->name : "");
            md_code(f, o->name ? name : ph);
            fputs(" | ", f);
            if (o->name && o->kind != TT_OPT_FLAG) {
                md_code(f, ph);
                fputc(' ', f);
            }
            fputs("| ", f);
            md_text(f, o->help, 1);
            if (notes[0]) {
                fputc(' ', f);
                md_text(f, notes, 1);
            }
            fputs(" |\n", f);
        }
    }
    fputs("| `-h`, `--help` | | this text |\n", f);
}

void tt_cmd_markdown(FILE *f, const tt_cmd *cmd, int level)
{
    fprintf(f, "\n%.*s ticktape %s\n\n", level, "######", cmd->name);
    md_text(f, cmd->summary, 0);
    fputs(".\n\n```text\n", f);
    if (cmd->opts || !cmd->subs) {
        tt_cmd_synopsis(f, cmd);
        fputc('\n', f);
    }
    for (const tt_cmd *const *sub = cmd->subs; sub && *sub; sub++) {
        tt_cmd_synopsis(f, *sub);
        fputc('\n', f);
    }
    fputs("```\n", f);
    if (cmd->about) {
        fputc('\n', f);
        md_text(f, cmd->about, 0);
        fputs(cmd->about[strlen(cmd->about) - 1] == '\n' ? "" : "\n", f);
    }
    if (cmd->opts) {
        fputc('\n', f);
        md_rows(f, cmd);
    }
    for (const tt_opt_rule *r = cmd->rules; r && r->kind != TT_RULE_END; r++) {
        char text[400];
        rule_text(r, text, sizeof text);
        fputs(r == cmd->rules ? "\n" : "", f);
        md_text(f, text, 0);
        fputs("\n", f);
    }
    if (cmd->epilog) {
        fputc('\n', f);
        md_text(f, cmd->epilog, 0);
        fputs(cmd->epilog[strlen(cmd->epilog) - 1] == '\n' ? "" : "\n", f);
    }
    if (cmd->more)
        fprintf(f, "\n```text\n%s```\n", cmd->more());
    if (cmd->subs) {
        fputs("\n| subcommand | description |\n|---|---|\n", f);
        for (const tt_cmd *const *sub = cmd->subs; *sub; sub++) {
            fprintf(f, "| `%s` | ", tt_cmd_word(*sub));
            md_text(f, (*sub)->summary, 1);
            fputs(" |\n", f);
        }
        for (const tt_cmd *const *sub = cmd->subs; *sub; sub++)
            tt_cmd_markdown(f, *sub, level + 1);
    }
}

void tt_cmds_list(FILE *f, const tt_cmd *const *cmds)
{
    int w = 12;
    for (const tt_cmd *const *c = cmds; *c; c++)
        if ((int)strlen((*c)->name) > w)
            w = (int)strlen((*c)->name);
    for (const tt_cmd *const *c = cmds; *c; c++)
        fprintf(f, "  %-*s %s\n", w, (*c)->name, (*c)->summary);
}

void tt_cmds_markdown(FILE *f, const tt_cmd *const *cmds)
{
    fputs("# Command-line reference\n\n"
          "<!-- Generated by `ticktape help --markdown` from the option tables in cli/;\n"
          "     do not edit: tests/cli/cli_docs_test.py checks that this file equals the\n"
          "     output. Regenerate with `build/ticktape help --markdown > docs/cli.md`. -->\n\n"
          "Every command, its arguments and options, as `ticktape COMMAND --help` prints\n"
          "them. Options take their value as `--name VALUE` or `--name=VALUE`; a value\n"
          "is taken as written, even when it starts with `-`. Exit codes: 0 success,\n"
          "1 failure, 2 usage error, 3 partial success, 4 a gate failed.\n\n"
          "| command | description |\n|---|---|\n",
          f);
    for (const tt_cmd *const *c = cmds; *c; c++) {
        fprintf(f, "| [`%s`](#ticktape-%s) | ", (*c)->name, (*c)->name);
        md_text(f, (*c)->summary, 1);
        fputs(" |\n", f);
    }
    for (const tt_cmd *const *c = cmds; *c; c++)
        tt_cmd_markdown(f, *c, 2);
}
