import { PronouncingDictionary } from './dictionary.js';

/**
 * Common English-language given names and surnames the name search always accepts, before a
 * flow's own names (Expectation.phrases) are added. A platform list, not a flow's: it only
 * has to make frequent names hearable; rarer ones come from the flow or from spelling.
 */
export const COMMON_FIRST_NAMES: readonly string[] = `
aaron adam alan albert alex alexander alice alicia allison amanda amber amy andrea andrew
angela anna anne anthony arthur ashley austin barbara benjamin betty beverly bill billy
bob bobby brandon brenda brian brittany bruce bryan carl carol carolyn catherine charles
charlotte cheryl chris christian christina christine christopher cindy connor craig crystal
cynthia daniel danielle david deborah debra denise dennis diana diane donald donna doris
dorothy douglas dylan edward elizabeth emily emma eric ethan eugene evelyn frances frank
gary george gerald gloria grace gregory hannah harold heather helen henry isabella jack
jacob jacqueline james janet janice jason jean jeffrey jennifer jeremy jerry jesse jessica
joan joe john johnny jonathan jordan jose joseph joshua joyce juan judith judy julia julie
justin karen katherine kathleen kathryn kayla keith kelly kenneth kevin kim kimberly kyle
larry laura lauren lawrence linda lisa logan louis madison margaret maria marie marilyn
mark martha mary matthew megan melissa michael michelle nancy natalie nathan nicholas
nicole noah olivia pamela patricia patrick paul peter philip rachel ralph randy raymond
rebecca richard robert roger ronald rose roy russell ruth ryan samantha samuel sandra sara
sarah scott sean sharon shirley sophia stephanie stephen steven susan teresa terry thomas
timothy tyler victoria vincent virginia walter wayne william willie zachary
`
  .trim()
  .split(/\s+/);

export const COMMON_LAST_NAMES: readonly string[] = `
adams allen alvarez anderson bailey baker barnes bell bennett brooks brown bryant butler
campbell carter castillo chavez clark coleman collins cook cooper cox cruz davis diaz
edwards evans fisher flores ford foster garcia gomez gonzalez gordon graham gray
green griffin hall hamilton harris hayes henderson hernandez hill hughes jackson james
jenkins johnson jones jordan kelly kennedy kim king lee lewis long lopez marshall martin
martinez mcdonald miller mitchell moore morales morgan morris murphy murray myers nelson
nguyen ortiz owens parker patel patterson perez perry peterson phillips powell price
ramirez reed reyes reynolds richardson rivera roberts robinson rodriguez rogers ross
russell sanchez sanders scott simmons smith stewart sullivan taylor thomas thompson torres
turner walker wallace ward washington watson white williams wilson wood wright young
`
  .trim()
  .split(/\s+/);

/** Words spoken after "as in" when spelling (the ICAO alphabet and a few common others). */
export const SPELLING_WORDS: readonly string[] = `
alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november
oscar papa quebec romeo sierra tango uniform victor whiskey x-ray yankee zulu apple boy
cat dog edward frank george harry ida john king larry mary nancy ocean peter queen robert
sam tom victor william xylophone yellow zebra
`
  .trim()
  .split(/\s+/);

/** Words that are never a name on their own (answers, fillers, calendar and number words). */
const NEVER_NAMES = new Set(
  `a an and the of to in on at for is it it's i i'm my me this that yes no yeah nope okay ok
  please thanks thank sure right correct wrong not um uh oh zero one two three four five six
  seven eight nine ten eleven twelve monday tuesday wednesday thursday friday saturday sunday
  today tomorrow morning afternoon evening noon january february march april may june july
  august september october november december name is hello hi`.split(/\s+/),
);

export interface NameCheckOptions {
  /** The flow's other vocabularies (service names, menu words): never a name here. */
  exclude?: Iterable<string>;
  /** Default: the CMU dictionary shipped with the acoustic model. */
  dictionary?: { has(word: string): boolean };
}

/**
 * Whether `word` can be a person's name: the pronouncing dictionary knows how to say it (so
 * the recognizer can hear it), it is a known name or not a word the flow uses for something
 * else ("cleaning" is not a name when cleaning is a service), and not an answer or calendar
 * word. Lowercase words; for the engine's name validator.
 */
export function isLikelyName(word: string, options: NameCheckOptions = {}): boolean {
  const dict = options.dictionary ?? PronouncingDictionary.load();
  const w = word.toLowerCase().trim();
  if (!/^[a-z][a-z'-]*$/.test(w) || !dict.has(w) || NEVER_NAMES.has(w)) return false;
  if (COMMON_FIRST_NAMES.includes(w) || COMMON_LAST_NAMES.includes(w)) return true;
  for (const other of options.exclude ?? []) if (other.toLowerCase() === w) return false;
  return w.length > 1;
}
