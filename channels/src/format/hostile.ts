/** Hostile XML payloads the readers must refuse or leave inert; shared by the unit and integration tests. */

export const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title><link>http://x/</link><description>&lol9;</description></channel></rss>
`;

export const XXE = `<?xml version="1.0"?>
<!DOCTYPE rss [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<rss version="2.0"><channel><title>&xxe;</title><link>http://x/</link><description>x</description></channel></rss>
`;

/** External DTD only, no internal subset: still refused (nothing may be fetched). */
export const EXTERNAL_DTD = `<?xml version="1.0"?>
<!DOCTYPE rss SYSTEM "http://127.0.0.1:1/evil.dtd">
<rss version="2.0"><channel><title>t</title><link>http://x/</link><description>x</description></channel></rss>
`;

/** Entity references with no declaration: must not expand to anything. */
export const UNDECLARED_ENTITY =
  '<rss version="2.0"><channel><title>&xxe;</title><link>http://x/</link><description>x</description></channel></rss>';

export const PROTO_ELEMENT = `<rss version="2.0"><channel><title>t</title><link>http://x/</link><description>x</description>
<__proto__><polluted>yes</polluted></__proto__>
<item><title>i</title><__proto__ polluted="yes"/></item></channel></rss>`;

export const PROTO_ATTRIBUTE =
  '<rss version="2.0" __proto__="x"><channel><title>t</title><link>http://x/</link><description>x</description></channel></rss>';

export const CONSTRUCTOR_ELEMENT = `<rss version="2.0"><channel><title>t</title><link>http://x/</link><description>x</description>
<constructor><prototype><polluted>yes</polluted></prototype></constructor></channel></rss>`;

export const PROCESSING_INSTRUCTION = '<?xml version="1.0"?><?xml-stylesheet href="http://x/s.xsl"?><rss version="2.0"/>';

/** Names the prototype-pollution payloads try to set on Object.prototype. */
export const POLLUTION_PROBES = ['polluted'] as const;
