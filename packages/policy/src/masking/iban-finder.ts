import { ibanChecksumValid } from './checksums.js';
import { type Emit, type Finder, isAlnum } from './finder.js';

/** IBAN lengths by country (SWIFT IBAN registry); the length check turns 1-in-97 luck into none. */
const IBAN_LENGTHS: Readonly<Record<string, number>> = Object.fromEntries(
  (
    'AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 ' +
    'DO28 EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HN28 HR21 HU28 IE22 IL23 ' +
    'IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 ' +
    'MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 ' +
    'SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30'
  )
    .split(' ')
    .map((e) => [e.slice(0, 2), Number(e.slice(2))]),
);

const START = /[A-Za-z]{2}\d{2}/g;

/**
 * IBANs printed compactly or in groups (`DE89 3704 0044 0532 0130 00`): country code, check digits,
 * then exactly the country's length of letters and digits with single spaces allowed between them,
 * and the mod-97 check.
 */
export const ibanFinder: Finder = {
  detects: ['iban'],
  find(text: string, _wanted: ReadonlySet<string>, emit: Emit): void {
    const re = START;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const start = m.index;
      if (start > 0 && isAlnum(text.charCodeAt(start - 1))) continue;
      const country = m[0].slice(0, 2).toUpperCase();
      const length = IBAN_LENGTHS[country];
      if (length === undefined) continue;
      let compact = country + m[0].slice(2);
      let pos = start + 4;
      while (compact.length < length && pos < text.length) {
        let c = text.charCodeAt(pos);
        if (c === 32 && pos + 1 < text.length && isAlnum(text.charCodeAt(pos + 1))) {
          pos++;
          c = text.charCodeAt(pos);
        }
        if (!isAlnum(c)) break;
        compact += String.fromCharCode(c).toUpperCase();
        pos++;
      }
      if (compact.length !== length) continue;
      if (pos < text.length && isAlnum(text.charCodeAt(pos))) continue;
      if (!ibanChecksumValid(compact)) continue;
      emit('iban', start, pos);
      re.lastIndex = pos;
    }
  },
};
