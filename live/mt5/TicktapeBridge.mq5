//+------------------------------------------------------------------+
//| TicktapeBridge.mq5: the MetaTrader 5 end of the ticktape bridge.  |
//|                                                                  |
//| A pipe, not a trader. It connects to ticktape (MQL5 sockets are  |
//| client-only, so ticktape listens), proves the shared secret,     |
//| streams the quotes of the symbols ticktape subscribes, reports   |
//| symbol specifications, the account, positions, orders and every  |
//| deal, and carries out the trade requests ticktape sends, passing |
//| the trade server's answer back unchanged. It never decides to    |
//| trade: every decision (what, how much, when, what an answer      |
//| means) is ticktape's. The protocol is docs/mt5-protocol.md:      |
//| one text line per frame, TYPE key=value ..., fields in a fixed   |
//| order, strings percent-encoded.                                  |
//|                                                                  |
//| Install: docs/live.md, "From a demo account to live".            |
//+------------------------------------------------------------------+
#property copyright "ticktape"
#property version   "1.00"
#property description "Bridge to ticktape: quotes out, trade requests in. Never trades on its own."

input string InpHost        = "127.0.0.1"; // ticktape's address (add it to Tools > Options > Expert Advisors > allowed URLs)
input int    InpPort        = 7300;        // ticktape's port (ticktape live --mt5 HOST:PORT)
input string InpSecret      = "";          // shared secret (the same as ticktape's)
input bool   InpTls         = false;       // TLS (SocketTlsHandshake)
input int    InpTimerMs     = 10;          // how often to read the socket and copy ticks
input int    InpReconnectMs = 1000;        // wait between connection attempts
input int    InpHistoryDays = 7;           // how far back QUERY looks for an order

#define PROTO_VERSION 1
#define FRAME_MAX     2048

int    g_sock = INVALID_HANDLE;
int    g_stage = 0;            // 0 down, 1 HELLO sent, 2 session up
string g_cnonce = "", g_nonce = "";
uchar  g_rx[];
int    g_rxlen = 0;
ulong  g_next_try = 0, g_last_in = 0, g_last_out = 0, g_last_account = 0;
uint   g_hb_ms = 1000;
string g_subs[];               // subscribed symbols
long   g_from_msc[];           // per symbol: time of the last tick sent
int    g_sent_at[];            // ... and how many ticks of that millisecond were sent
string g_account_line = "";

//+------------------------------------------------------------------+
//| encoding                                                         |
//+------------------------------------------------------------------+
string Enc(const string s)
  {
   uchar b[];
   int n = StringToCharArray(s, b, 0, WHOLE_ARRAY, CP_UTF8) - 1;  // without the terminating 0
   string out = "";
   for(int i = 0; i < n; i++)
     {
      uchar c = b[i];
      if(c < 0x21 || c > 0x7e || c == '%' || c == '=')
         out += StringFormat("%%%02X", (uint)c);
      else
         out += CharToString(c);
     }
   return out;
  }

int HexVal(const ushort c)
  {
   if(c >= '0' && c <= '9') return c - '0';
   if(c >= 'a' && c <= 'f') return c - 'a' + 10;
   if(c >= 'A' && c <= 'F') return c - 'A' + 10;
   return -1;
  }

string Dec(const string s)
  {
   uchar b[];
   int n = 0, len = StringLen(s);
   ArrayResize(b, len + 1);
   for(int i = 0; i < len; i++)
     {
      ushort c = StringGetCharacter(s, i);
      if(c == '%' && i + 2 < len && HexVal(StringGetCharacter(s, i + 1)) >= 0 && HexVal(StringGetCharacter(s, i + 2)) >= 0)
        {
         b[n++] = (uchar)(HexVal(StringGetCharacter(s, i + 1)) * 16 + HexVal(StringGetCharacter(s, i + 2)));
         i += 2;
        }
      else
         b[n++] = (uchar)c;
     }
   return CharArrayToString(b, 0, n, CP_UTF8);
  }

string Num(const double v, const int digits) { return DoubleToString(v, digits); }
string Vol(const double v)                   { return DoubleToString(v, 8); }
string Money(const double v)                 { return DoubleToString(v, 2); }

//+------------------------------------------------------------------+
//| HMAC-SHA256 on CryptEncode (RFC 2104)                            |
//+------------------------------------------------------------------+
void Utf8(const string s, uchar &out[])
  {
   int n = StringToCharArray(s, out, 0, WHOLE_ARRAY, CP_UTF8);
   ArrayResize(out, n > 0 ? n - 1 : 0);
  }

bool Sha256(const uchar &data[], uchar &digest[])
  {
   uchar nokey[1];   // ignored by hash methods
   nokey[0] = 0;
   return CryptEncode(CRYPT_HASH_SHA256, data, nokey, digest) == 32;
  }

string HmacHex(const string secret, const string message)
  {
   uchar key[], msg[], block[64], inner[], ih[], outer[], oh[];
   Utf8(secret, key);
   Utf8(message, msg);
   ArrayInitialize(block, 0);
   if(ArraySize(key) > 64)
     {
      uchar kh[];
      Sha256(key, kh);
      ArrayCopy(block, kh, 0, 0, 32);
     }
   else
      ArrayCopy(block, key, 0, 0, ArraySize(key));
   ArrayResize(inner, 64 + ArraySize(msg));
   for(int i = 0; i < 64; i++) inner[i] = (uchar)(block[i] ^ 0x36);
   ArrayCopy(inner, msg, 64, 0, ArraySize(msg));
   Sha256(inner, ih);
   ArrayResize(outer, 64 + 32);
   for(int i = 0; i < 64; i++) outer[i] = (uchar)(block[i] ^ 0x5c);
   ArrayCopy(outer, ih, 64, 0, 32);
   Sha256(outer, oh);
   string hex = "";
   for(int i = 0; i < ArraySize(oh); i++) hex += StringFormat("%02x", (uint)oh[i]);
   return hex;
  }

string NewNonce()
  {
   string seed = IntegerToString((long)GetMicrosecondCount()) + "|" + IntegerToString(MathRand()) + "|" +
                 IntegerToString((long)TimeLocal()) + "|" + IntegerToString(AccountInfoInteger(ACCOUNT_LOGIN)) +
                 "|" + IntegerToString(MathRand());
   uchar d[], h[];
   Utf8(seed, d);
   Sha256(d, h);
   string hex = "";
   for(int i = 0; i < 16; i++) hex += StringFormat("%02x", (uint)h[i]);
   return hex;
  }

//+------------------------------------------------------------------+
//| the connection                                                   |
//+------------------------------------------------------------------+
void Send(const string line)
  {
   if(g_sock == INVALID_HANDLE)
      return;
   uchar b[];
   Utf8(line + "\n", b);
   int n = InpTls ? SocketTlsSend(g_sock, b, ArraySize(b)) : SocketSend(g_sock, b, ArraySize(b));
   if(n != ArraySize(b))
     {
      Disconnect("write failed, error " + IntegerToString(GetLastError()), false);
      return;
     }
   g_last_out = GetMicrosecondCount();
  }

void Disconnect(const string why, const bool say_bye)
  {
   if(g_sock == INVALID_HANDLE)
      return;
   if(say_bye)
      Send("BYE reason=" + Enc(why));
   if(g_sock != INVALID_HANDLE)
      SocketClose(g_sock);
   g_sock = INVALID_HANDLE;
   g_stage = 0;
   g_rxlen = 0;
   ArrayResize(g_subs, 0);
   ArrayResize(g_from_msc, 0);
   ArrayResize(g_sent_at, 0);
   g_next_try = GetMicrosecondCount() + (ulong)InpReconnectMs * 1000;
   Print("TicktapeBridge: disconnected: ", why);
  }

void Connect()
  {
   g_sock = SocketCreate();
   if(g_sock == INVALID_HANDLE)
      return;
   if(!SocketConnect(g_sock, InpHost, InpPort, 3000) || (InpTls && !SocketTlsHandshake(g_sock, InpHost)))
     {
      SocketClose(g_sock);
      g_sock = INVALID_HANDLE;
      g_next_try = GetMicrosecondCount() + (ulong)InpReconnectMs * 1000;
      return;
     }
   g_cnonce = NewNonce();
   g_last_in = GetMicrosecondCount();
   long mode = AccountInfoInteger(ACCOUNT_MARGIN_MODE);
   int tz = (int)MathRound((double)(TimeTradeServer() - TimeGMT()) / 900.0) * 900;
   Send("HELLO v=" + IntegerToString(PROTO_VERSION) +
        " build=" + IntegerToString(TerminalInfoInteger(TERMINAL_BUILD)) +
        " login=" + IntegerToString(AccountInfoInteger(ACCOUNT_LOGIN)) +
        " server=" + Enc(AccountInfoString(ACCOUNT_SERVER)) +
        " company=" + Enc(AccountInfoString(ACCOUNT_COMPANY)) +
        " currency=" + Enc(AccountInfoString(ACCOUNT_CURRENCY)) +
        " leverage=" + IntegerToString(AccountInfoInteger(ACCOUNT_LEVERAGE)) +
        " mode=" + (mode == ACCOUNT_MARGIN_MODE_RETAIL_HEDGING ? "hedging" : "netting") +
        " tz=" + IntegerToString(tz) +
        " cnonce=" + g_cnonce);
   g_stage = 1;
  }

//+------------------------------------------------------------------+
//| names of MT5's enumerations on the wire                          |
//+------------------------------------------------------------------+
string OrderTypeName(const long t)
  {
   switch((int)t)
     {
      case ORDER_TYPE_BUY:             return "buy";
      case ORDER_TYPE_SELL:            return "sell";
      case ORDER_TYPE_BUY_LIMIT:       return "buy_limit";
      case ORDER_TYPE_SELL_LIMIT:      return "sell_limit";
      case ORDER_TYPE_BUY_STOP:        return "buy_stop";
      case ORDER_TYPE_SELL_STOP:       return "sell_stop";
      case ORDER_TYPE_BUY_STOP_LIMIT:  return "buy_stop_limit";
      case ORDER_TYPE_SELL_STOP_LIMIT: return "sell_stop_limit";
     }
   return "buy";
  }

ENUM_ORDER_TYPE OrderTypeOf(const string s)
  {
   if(s == "sell")            return ORDER_TYPE_SELL;
   if(s == "buy_limit")       return ORDER_TYPE_BUY_LIMIT;
   if(s == "sell_limit")      return ORDER_TYPE_SELL_LIMIT;
   if(s == "buy_stop")        return ORDER_TYPE_BUY_STOP;
   if(s == "sell_stop")       return ORDER_TYPE_SELL_STOP;
   if(s == "buy_stop_limit")  return ORDER_TYPE_BUY_STOP_LIMIT;
   if(s == "sell_stop_limit") return ORDER_TYPE_SELL_STOP_LIMIT;
   return ORDER_TYPE_BUY;
  }

string FillingName(const long f)
  {
   if(f == ORDER_FILLING_FOK) return "fok";
   if(f == ORDER_FILLING_IOC) return "ioc";
   return "return";
  }

ENUM_ORDER_TYPE_FILLING FillingOf(const string s)
  {
   if(s == "fok") return ORDER_FILLING_FOK;
   if(s == "ioc") return ORDER_FILLING_IOC;
   return ORDER_FILLING_RETURN;
  }

string TimeName(const long t)
  {
   if(t == ORDER_TIME_DAY)           return "day";
   if(t == ORDER_TIME_SPECIFIED)     return "specified";
   if(t == ORDER_TIME_SPECIFIED_DAY) return "specified_day";
   return "gtc";
  }

ENUM_ORDER_TYPE_TIME TimeOf(const string s)
  {
   if(s == "day")           return ORDER_TIME_DAY;
   if(s == "specified")     return ORDER_TIME_SPECIFIED;
   if(s == "specified_day") return ORDER_TIME_SPECIFIED_DAY;
   return ORDER_TIME_GTC;
  }

string StateName(const long s)
  {
   switch((int)s)
     {
      case ORDER_STATE_STARTED:  return "started";
      case ORDER_STATE_PLACED:   return "placed";
      case ORDER_STATE_CANCELED: return "canceled";
      case ORDER_STATE_PARTIAL:  return "partial";
      case ORDER_STATE_FILLED:   return "filled";
      case ORDER_STATE_REJECTED: return "rejected";
      case ORDER_STATE_EXPIRED:  return "expired";
     }
   return "started";
  }

string EntryName(const long e)
  {
   if(e == DEAL_ENTRY_OUT)    return "out";
   if(e == DEAL_ENTRY_INOUT)  return "inout";
   if(e == DEAL_ENTRY_OUT_BY) return "out_by";
   return "in";
  }

string ReasonName(const long r)
  {
   switch((int)r)
     {
      case DEAL_REASON_MOBILE:   return "mobile";
      case DEAL_REASON_WEB:      return "web";
      case DEAL_REASON_EXPERT:   return "expert";
      case DEAL_REASON_SL:       return "sl";
      case DEAL_REASON_TP:       return "tp";
      case DEAL_REASON_SO:       return "so";
      case DEAL_REASON_ROLLOVER: return "rollover";
      case DEAL_REASON_VMARGIN:  return "vmargin";
      case DEAL_REASON_SPLIT:    return "split";
     }
   return "client";
  }

//+------------------------------------------------------------------+
//| frames out                                                       |
//+------------------------------------------------------------------+
void SendSpec(const string sym)
  {
   int digits = (int)SymbolInfoInteger(sym, SYMBOL_DIGITS);
   long exe = SymbolInfoInteger(sym, SYMBOL_TRADE_EXEMODE);
   long tm = SymbolInfoInteger(sym, SYMBOL_TRADE_MODE);
   long sm = SymbolInfoInteger(sym, SYMBOL_SWAP_MODE);
   double mi = 0, mm = 0;
   if(!SymbolInfoMarginRate(sym, ORDER_TYPE_BUY, mi, mm))
      mi = 1;
   string exec = exe == SYMBOL_TRADE_EXECUTION_REQUEST ? "request" : exe == SYMBOL_TRADE_EXECUTION_INSTANT ? "instant" :
                 exe == SYMBOL_TRADE_EXECUTION_EXCHANGE ? "exchange" : "market";
   string trade = tm == SYMBOL_TRADE_MODE_DISABLED ? "disabled" : tm == SYMBOL_TRADE_MODE_LONGONLY ? "long_only" :
                  tm == SYMBOL_TRADE_MODE_SHORTONLY ? "short_only" : tm == SYMBOL_TRADE_MODE_CLOSEONLY ? "close_only" : "full";
   string swap = sm == SYMBOL_SWAP_MODE_DISABLED ? "disabled" : sm == SYMBOL_SWAP_MODE_POINTS ? "points" : "other";
   Send("SPEC sym=" + Enc(sym) + " digits=" + IntegerToString(digits) +
        " point=" + Num(SymbolInfoDouble(sym, SYMBOL_POINT), digits) +
        " contract=" + Vol(SymbolInfoDouble(sym, SYMBOL_TRADE_CONTRACT_SIZE)) +
        " vmin=" + Vol(SymbolInfoDouble(sym, SYMBOL_VOLUME_MIN)) +
        " vmax=" + Vol(SymbolInfoDouble(sym, SYMBOL_VOLUME_MAX)) +
        " vstep=" + Vol(SymbolInfoDouble(sym, SYMBOL_VOLUME_STEP)) +
        " stops=" + IntegerToString(SymbolInfoInteger(sym, SYMBOL_TRADE_STOPS_LEVEL)) +
        " freeze=" + IntegerToString(SymbolInfoInteger(sym, SYMBOL_TRADE_FREEZE_LEVEL)) +
        " filling=" + IntegerToString(SymbolInfoInteger(sym, SYMBOL_FILLING_MODE)) +
        " exec=" + exec + " trade=" + trade + " swapmode=" + swap +
        " swap_long=" + Vol(SymbolInfoDouble(sym, SYMBOL_SWAP_LONG)) +
        " swap_short=" + Vol(SymbolInfoDouble(sym, SYMBOL_SWAP_SHORT)) +
        " swap3=" + IntegerToString(SymbolInfoInteger(sym, SYMBOL_SWAP_ROLLOVER3DAYS)) +
        " margin_rate=" + Vol(mi) +
        " base=" + Enc(SymbolInfoString(sym, SYMBOL_CURRENCY_BASE)) +
        " profit=" + Enc(SymbolInfoString(sym, SYMBOL_CURRENCY_PROFIT)) +
        " comm=0");   // MQL5 cannot read the commission: ticktape takes it from the deals
  }

void SendAccount(const bool only_if_changed)
  {
   string body = " balance=" + Money(AccountInfoDouble(ACCOUNT_BALANCE)) +
                 " equity=" + Money(AccountInfoDouble(ACCOUNT_EQUITY)) +
                 " margin=" + Money(AccountInfoDouble(ACCOUNT_MARGIN)) +
                 " free=" + Money(AccountInfoDouble(ACCOUNT_MARGIN_FREE));
   if(only_if_changed && body == g_account_line)
      return;
   g_account_line = body;
   Send("ACCOUNT t=" + IntegerToString((long)TimeCurrent() * 1000) + body);
  }

void SendDeal(const ulong d)
  {
   long type = HistoryDealGetInteger(d, DEAL_TYPE);
   if(type != DEAL_TYPE_BUY && type != DEAL_TYPE_SELL)
      return;   // balance, credit, ... are not trades
   string sym = HistoryDealGetString(d, DEAL_SYMBOL);
   int digits = (int)SymbolInfoInteger(sym, SYMBOL_DIGITS);
   Send("DEAL deal=" + IntegerToString((long)d) +
        " order=" + IntegerToString(HistoryDealGetInteger(d, DEAL_ORDER)) +
        " position=" + IntegerToString(HistoryDealGetInteger(d, DEAL_POSITION_ID)) +
        " sym=" + Enc(sym) + " side=" + (type == DEAL_TYPE_BUY ? "buy" : "sell") +
        " entry=" + EntryName(HistoryDealGetInteger(d, DEAL_ENTRY)) +
        " reason=" + ReasonName(HistoryDealGetInteger(d, DEAL_REASON)) +
        " vol=" + Vol(HistoryDealGetDouble(d, DEAL_VOLUME)) +
        " price=" + Num(HistoryDealGetDouble(d, DEAL_PRICE), digits) +
        " comm=" + Money(HistoryDealGetDouble(d, DEAL_COMMISSION)) +
        " swap=" + Money(HistoryDealGetDouble(d, DEAL_SWAP)) +
        " profit=" + Money(HistoryDealGetDouble(d, DEAL_PROFIT)) +
        " t=" + IntegerToString(HistoryDealGetInteger(d, DEAL_TIME_MSC)) +
        " magic=" + IntegerToString(HistoryDealGetInteger(d, DEAL_MAGIC)) +
        " comment=" + Enc(HistoryDealGetString(d, DEAL_COMMENT)));
  }

void SendHistoryState(const ulong id, const ulong o)
  {
   Send("STATE id=" + IntegerToString((long)id) + " order=" + IntegerToString((long)o) +
        " magic=" + IntegerToString(HistoryOrderGetInteger(o, ORDER_MAGIC)) +
        " state=" + StateName(HistoryOrderGetInteger(o, ORDER_STATE)) +
        " vol=" + Vol(HistoryOrderGetDouble(o, ORDER_VOLUME_INITIAL)) +
        " vol_cur=" + Vol(HistoryOrderGetDouble(o, ORDER_VOLUME_CURRENT)) +
        " t=" + IntegerToString(HistoryOrderGetInteger(o, ORDER_TIME_DONE_MSC)));
  }

void SendSnapshot(const string id)
  {
   SendAccount(false);
   int np = PositionsTotal(), no = OrdersTotal();
   Send("SNAP id=" + id + " positions=" + IntegerToString(np) + " orders=" + IntegerToString(no));
   for(int i = 0; i < np; i++)
     {
      ulong t = PositionGetTicket(i);
      if(t == 0) continue;
      string sym = PositionGetString(POSITION_SYMBOL);
      int digits = (int)SymbolInfoInteger(sym, SYMBOL_DIGITS);
      Send("POS ticket=" + IntegerToString((long)t) + " sym=" + Enc(sym) +
           " side=" + (PositionGetInteger(POSITION_TYPE) == POSITION_TYPE_BUY ? "buy" : "sell") +
           " vol=" + Vol(PositionGetDouble(POSITION_VOLUME)) +
           " price=" + Vol(PositionGetDouble(POSITION_PRICE_OPEN)) +
           " sl=" + Num(PositionGetDouble(POSITION_SL), digits) +
           " tp=" + Num(PositionGetDouble(POSITION_TP), digits) +
           " swap=" + Money(PositionGetDouble(POSITION_SWAP)) +
           " profit=" + Money(PositionGetDouble(POSITION_PROFIT)) +
           " t=" + IntegerToString(PositionGetInteger(POSITION_TIME_MSC)) +
           " magic=" + IntegerToString(PositionGetInteger(POSITION_MAGIC)) +
           " comment=" + Enc(PositionGetString(POSITION_COMMENT)));
     }
   for(int i = 0; i < no; i++)
     {
      ulong t = OrderGetTicket(i);
      if(t == 0) continue;
      string sym = OrderGetString(ORDER_SYMBOL);
      int digits = (int)SymbolInfoInteger(sym, SYMBOL_DIGITS);
      Send("ORD ticket=" + IntegerToString((long)t) + " sym=" + Enc(sym) +
           " type=" + OrderTypeName(OrderGetInteger(ORDER_TYPE)) +
           " vol=" + Vol(OrderGetDouble(ORDER_VOLUME_INITIAL)) +
           " vol_cur=" + Vol(OrderGetDouble(ORDER_VOLUME_CURRENT)) +
           " price=" + Num(OrderGetDouble(ORDER_PRICE_OPEN), digits) +
           " stoplimit=" + Num(OrderGetDouble(ORDER_PRICE_STOPLIMIT), digits) +
           " sl=" + Num(OrderGetDouble(ORDER_SL), digits) +
           " tp=" + Num(OrderGetDouble(ORDER_TP), digits) +
           " filling=" + FillingName(OrderGetInteger(ORDER_TYPE_FILLING)) +
           " time=" + TimeName(OrderGetInteger(ORDER_TYPE_TIME)) +
           " exp=" + IntegerToString(OrderGetInteger(ORDER_TIME_EXPIRATION) * 1000) +
           " t=" + IntegerToString(OrderGetInteger(ORDER_TIME_SETUP_MSC)) +
           " magic=" + IntegerToString(OrderGetInteger(ORDER_MAGIC)) +
           " comment=" + Enc(OrderGetString(ORDER_COMMENT)));
     }
   Send("SNAPEND id=" + id);
  }

//+------------------------------------------------------------------+
//| frames in                                                        |
//+------------------------------------------------------------------+
// The value of field i (1-based after the type), checking its key.
string Field(string &p[], const int i, const string key, bool &ok)
  {
   string want = key + "=";
   if(i >= ArraySize(p) || StringFind(p[i], want) != 0)
     {
      ok = false;
      return "";
     }
   return StringSubstr(p[i], StringLen(want));
  }

void OnOrder(string &p[])
  {
   bool ok = true;
   string id = Field(p, 1, "id", ok);
   string action = Field(p, 2, "action", ok);
   MqlTradeRequest rq;
   MqlTradeResult  rs;
   ZeroMemory(rq);
   ZeroMemory(rs);
   rq.action       = action == "pending" ? TRADE_ACTION_PENDING : action == "modify" ? TRADE_ACTION_MODIFY :
                     action == "remove" ? TRADE_ACTION_REMOVE : action == "sltp" ? TRADE_ACTION_SLTP : TRADE_ACTION_DEAL;
   rq.symbol       = Dec(Field(p, 3, "sym", ok));
   rq.type         = OrderTypeOf(Field(p, 4, "type", ok));
   rq.volume       = StringToDouble(Field(p, 5, "vol", ok));
   rq.price        = StringToDouble(Field(p, 6, "price", ok));
   rq.stoplimit    = StringToDouble(Field(p, 7, "stoplimit", ok));
   rq.sl           = StringToDouble(Field(p, 8, "sl", ok));
   rq.tp           = StringToDouble(Field(p, 9, "tp", ok));
   rq.deviation    = (ulong)StringToInteger(Field(p, 10, "dev", ok));
   rq.type_filling = FillingOf(Field(p, 11, "filling", ok));
   rq.type_time    = TimeOf(Field(p, 12, "time", ok));
   rq.expiration   = (datetime)(StringToInteger(Field(p, 13, "exp", ok)) / 1000);
   rq.order        = (ulong)StringToInteger(Field(p, 14, "order", ok));
   rq.position     = (ulong)StringToInteger(Field(p, 15, "position", ok));
   rq.magic        = (ulong)StringToInteger(Field(p, 16, "magic", ok));
   rq.comment      = Dec(Field(p, 17, "comment", ok));
   if(!ok)
     {
      Send("RESULT id=" + id + " retcode=10013 deal=0 order=0 vol=0 price=0 bid=0 ask=0 reqid=0 ext=0 comment=" +
           Enc("bad ORDER frame"));
      return;
     }
   ResetLastError();
   if(!OrderSend(rq, rs) && rs.retcode == 0)
     {
      rs.retcode = 10011;   // TRADE_RETCODE_ERROR: refused before reaching the server
      rs.retcode_external = GetLastError();
      rs.comment = "OrderSend failed in the terminal, error " + IntegerToString(rs.retcode_external);
     }
   int digits = (int)SymbolInfoInteger(rq.symbol, SYMBOL_DIGITS);
   Send("RESULT id=" + id + " retcode=" + IntegerToString(rs.retcode) +
        " deal=" + IntegerToString((long)rs.deal) + " order=" + IntegerToString((long)rs.order) +
        " vol=" + Vol(rs.volume) + " price=" + Num(rs.price, digits) +
        " bid=" + Num(rs.bid, digits) + " ask=" + Num(rs.ask, digits) +
        " reqid=" + IntegerToString(rs.request_id) + " ext=" + IntegerToString(rs.retcode_external) +
        " comment=" + Enc(rs.comment));
  }

void OnQuery(string &p[])
  {
   bool ok = true;
   string id = Field(p, 1, "id", ok);
   long magic = StringToInteger(Field(p, 2, "magic", ok));
   ulong ticket = (ulong)StringToInteger(Field(p, 3, "order", ok));
   for(int i = 0; ok && i < OrdersTotal(); i++)
     {
      ulong t = OrderGetTicket(i);
      if(t == 0 || (ticket ? t != ticket : OrderGetInteger(ORDER_MAGIC) != magic))
         continue;
      Send("STATE id=" + id + " order=" + IntegerToString((long)t) +
           " magic=" + IntegerToString(OrderGetInteger(ORDER_MAGIC)) +
           " state=" + StateName(OrderGetInteger(ORDER_STATE)) +
           " vol=" + Vol(OrderGetDouble(ORDER_VOLUME_INITIAL)) +
           " vol_cur=" + Vol(OrderGetDouble(ORDER_VOLUME_CURRENT)) +
           " t=" + IntegerToString(OrderGetInteger(ORDER_TIME_SETUP_MSC)));
      return;
     }
   HistorySelect(TimeCurrent() - InpHistoryDays * 86400, TimeCurrent() + 86400);
   for(int i = HistoryOrdersTotal() - 1; ok && i >= 0; i--)
     {
      ulong o = HistoryOrderGetTicket(i);
      long why = o ? HistoryOrderGetInteger(o, ORDER_REASON) : 0;
      bool own = why != ORDER_REASON_SL && why != ORDER_REASON_TP && why != ORDER_REASON_SO;
      if(o == 0 || (ticket ? o != ticket : HistoryOrderGetInteger(o, ORDER_MAGIC) != magic || !own))
         continue;   // the broker's own orders for SL/TP/SO carry the position's magic
      for(int k = 0; k < HistoryDealsTotal(); k++)   // its deals first, then its state
        {
         ulong d = HistoryDealGetTicket(k);
         if(d != 0 && (ulong)HistoryDealGetInteger(d, DEAL_ORDER) == o)
            SendDeal(d);
        }
      SendHistoryState(StringToInteger(id), o);
      return;
     }
   Send("STATE id=" + id + " order=0 magic=" + IntegerToString(magic) + " state=none vol=0 vol_cur=0 t=" +
        IntegerToString((long)TimeCurrent() * 1000));
  }

void OnHistory(string &p[])
  {
   bool ok = true;
   string id = Field(p, 1, "id", ok);
   long from = StringToInteger(Field(p, 2, "from", ok));
   int n = 0;
   if(ok && HistorySelect((datetime)(from / 1000), TimeCurrent() + 86400))
      for(int k = 0; k < HistoryDealsTotal(); k++)
        {
         ulong d = HistoryDealGetTicket(k);
         long type = HistoryDealGetInteger(d, DEAL_TYPE);
         if(d == 0 || HistoryDealGetInteger(d, DEAL_TIME_MSC) < from || (type != DEAL_TYPE_BUY && type != DEAL_TYPE_SELL))
            continue;
         SendDeal(d);
         n++;
        }
   Send("HISTEND id=" + id + " deals=" + IntegerToString(n));
  }

void OnSub(string &p[])
  {
   bool ok = true;
   string sym = Dec(Field(p, 1, "sym", ok));
   if(!ok || !SymbolSelect(sym, true) || SymbolInfoDouble(sym, SYMBOL_POINT) <= 0)
     {
      Send("ERROR reason=" + Enc("SUB: unknown symbol " + sym));
      return;
     }
   SendSpec(sym);
   int n = ArraySize(g_subs);
   ArrayResize(g_subs, n + 1);
   ArrayResize(g_from_msc, n + 1);
   ArrayResize(g_sent_at, n + 1);
   g_subs[n] = sym;
   MqlTick last;
   g_from_msc[n] = SymbolInfoTick(sym, last) ? last.time_msc : (long)TimeCurrent() * 1000;
   g_sent_at[n] = 0;
  }

void OnLine(const string line)
  {
   string p[];
   int n = StringSplit(line, ' ', p);
   if(n < 1)
      return;
   string type = p[0];
   bool ok = true;
   if(g_stage == 1)
     {
      if(type == "CHALLENGE")
        {
         g_nonce = Field(p, 2, "nonce", ok);
         string msg = "ticktape-mt5 1 terminal " + g_nonce + " " + g_cnonce + " " + IntegerToString(AccountInfoInteger(ACCOUNT_LOGIN));
         Send("AUTH mac=" + HmacHex(InpSecret, msg));
        }
      else if(type == "WELCOME")
        {
         string msg = "ticktape-mt5 1 server " + g_cnonce + " " + g_nonce + " " + IntegerToString(AccountInfoInteger(ACCOUNT_LOGIN));
         if(g_nonce == "" || Field(p, 1, "mac", ok) != HmacHex(InpSecret, msg))
           {
            Disconnect("ticktape failed to prove the shared secret", true);
            return;
           }
         g_hb_ms = (uint)StringToInteger(Field(p, 2, "hb", ok));
         if(g_hb_ms == 0) g_hb_ms = 1000;
         g_stage = 2;
         Print("TicktapeBridge: session up with ", InpHost, ":", InpPort);
        }
      else if(type == "BYE")
         Disconnect("ticktape: " + Dec(Field(p, 1, "reason", ok)), false);
      return;
     }
   if(type == "ORDER")         OnOrder(p);
   else if(type == "SUB")      OnSub(p);
   else if(type == "SNAPSHOT") SendSnapshot(Field(p, 1, "id", ok));
   else if(type == "QUERY")    OnQuery(p);
   else if(type == "HISTORY")  OnHistory(p);
   else if(type == "BYE")      Disconnect("ticktape: " + Dec(Field(p, 1, "reason", ok)), false);
   else if(type == "ERROR")    Print("TicktapeBridge: ticktape reports: ", Dec(Field(p, 1, "reason", ok)));
   else if(type != "HB")       Send("ERROR reason=" + Enc("unexpected " + type));
  }

void Receive()
  {
   uchar buf[];
   int got;
   if(InpTls)
      got = SocketTlsReadAvailable(g_sock, buf, 65536);
   else
     {
      uint n = SocketIsReadable(g_sock);
      if(n == 0)
        {
         if(!SocketIsConnected(g_sock))
            Disconnect("ticktape closed the connection", false);
         return;
        }
      got = SocketRead(g_sock, buf, n, 100);
     }
   if(got < 0)
     {
      Disconnect("read failed, error " + IntegerToString(GetLastError()), false);
      return;
     }
   if(got == 0)
      return;
   g_last_in = GetMicrosecondCount();
   ArrayResize(g_rx, g_rxlen + got);
   ArrayCopy(g_rx, buf, g_rxlen, 0, got);
   g_rxlen += got;
   int start = 0;
   for(int i = 0; i < g_rxlen && g_sock != INVALID_HANDLE; i++)
     {
      if(g_rx[i] != '\n')
         continue;
      OnLine(CharArrayToString(g_rx, start, i - start, CP_UTF8));
      start = i + 1;
     }
   if(g_sock == INVALID_HANDLE)
      return;
   if(g_rxlen - start >= FRAME_MAX)
     {
      Disconnect("frame longer than 2048 bytes: refused", true);
      return;
     }
   ArrayCopy(g_rx, g_rx, 0, start, g_rxlen - start);
   g_rxlen -= start;
  }

//+------------------------------------------------------------------+
//| ticks                                                            |
//+------------------------------------------------------------------+
void StreamTicks()
  {
   for(int s = 0; s < ArraySize(g_subs) && g_sock != INVALID_HANDLE; s++)
     {
      MqlTick ticks[];
      int n = CopyTicks(g_subs[s], ticks, COPY_TICKS_INFO, (ulong)g_from_msc[s], 1000);
      int digits = (int)SymbolInfoInteger(g_subs[s], SYMBOL_DIGITS);
      int skip = g_sent_at[s];   // ticks of the first millisecond already sent
      for(int i = 0; i < n; i++)
        {
         if(ticks[i].time_msc == g_from_msc[s] && skip > 0)
           {
            skip--;
            continue;
           }
         Send("TICK sym=" + Enc(g_subs[s]) + " t=" + IntegerToString(ticks[i].time_msc) +
              " bid=" + Num(ticks[i].bid, digits) + " ask=" + Num(ticks[i].ask, digits) +
              " bv=" + Vol(ticks[i].volume_real) + " av=" + Vol(ticks[i].volume_real));
         if(ticks[i].time_msc != g_from_msc[s])
           {
            g_from_msc[s] = ticks[i].time_msc;
            g_sent_at[s] = 0;
           }
         g_sent_at[s]++;
        }
     }
  }

//+------------------------------------------------------------------+
//| events                                                           |
//+------------------------------------------------------------------+
int OnInit()
  {
   if(InpSecret == "")
     {
      Print("TicktapeBridge: set the shared secret (input InpSecret)");
      return INIT_PARAMETERS_INCORRECT;
     }
   MathSrand((uint)GetMicrosecondCount());
   EventSetMillisecondTimer(InpTimerMs);
   return INIT_SUCCEEDED;
  }

void OnDeinit(const int reason)
  {
   EventKillTimer();
   Disconnect("the expert was removed (reason " + IntegerToString(reason) + ")", true);
  }

void OnTimer()
  {
   ulong now = GetMicrosecondCount();
   if(g_sock == INVALID_HANDLE)
     {
      if(now >= g_next_try)
         Connect();
      return;
     }
   Receive();
   if(g_sock == INVALID_HANDLE || g_stage != 2)
     {
      if(g_sock != INVALID_HANDLE && now - g_last_in > 5000000)
         Disconnect("handshake not completed within 5 s", true);
      return;
     }
   StreamTicks();
   if(now - g_last_account >= 1000000)
     {
      SendAccount(true);
      g_last_account = now;
     }
   if(now - g_last_in > (ulong)g_hb_ms * 3000)
      Disconnect("no frame from ticktape for 3 heartbeats", true);
   else if(now - g_last_out >= (ulong)g_hb_ms * 1000)
      Send("HB t=" + IntegerToString((long)TimeCurrent() * 1000));
  }

void OnTradeTransaction(const MqlTradeTransaction &trans, const MqlTradeRequest &request, const MqlTradeResult &result)
  {
   if(g_stage != 2)
      return;   // missed deals reach ticktape through HISTORY after it reconnects
   if(trans.type == TRADE_TRANSACTION_DEAL_ADD && HistoryDealSelect(trans.deal))
     {
      SendDeal(trans.deal);
      SendAccount(false);
     }
   else if(trans.type == TRADE_TRANSACTION_HISTORY_ADD && HistoryOrderSelect(trans.order))
      SendHistoryState(0, trans.order);
  }
//+------------------------------------------------------------------+
