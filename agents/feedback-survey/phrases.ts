/**
 * What the survey says, in the business's language. Question text comes from the business
 * as written; these are the call's own lines around it.
 */
export const surveyLanguages = ['en-US', 'sv-SE'] as const;
export type SurveyLanguage = (typeof surveyLanguages)[number];

export interface SurveyPhrases {
  consent(businessName: string, questionCount: number): string;
  thanksForAnswer: string;
  warning: string;
  timeUp: string;
  goodbye: string;
  declined: string;
  stillThere: string;
  notUnderstood: string;
  yesOrNo: string;
}

const english: SurveyPhrases = {
  consent: (business, count) =>
    `Hello, this is ${business} calling about your recent visit. Do you have a minute for ${count === 1 ? 'one quick question' : `${count} quick questions`}?`,
  thanksForAnswer: 'Thank you.',
  warning: 'We are almost out of time, so just one more.',
  timeUp: 'That is all the time we have. Thank you very much for your answers. Goodbye.',
  goodbye: 'Thank you for your time. Goodbye.',
  declined: 'No problem. Thank you, and have a nice day. Goodbye.',
  stillThere: 'Are you still there?',
  notUnderstood: 'Sorry, I did not catch that.',
  yesOrNo: 'Please say yes or no.',
};

const swedish: SurveyPhrases = {
  consent: (business, count) =>
    `Hej, det här är ${business} som ringer om ditt besök hos oss. Har du en minut för ${count === 1 ? 'en snabb fråga' : `${count} snabba frågor`}?`,
  thanksForAnswer: 'Tack.',
  warning: 'Vi har nästan ingen tid kvar, så bara en sak till.',
  timeUp: 'Det var all tid vi hade. Tack så mycket för dina svar. Hej då.',
  goodbye: 'Tack för att du tog dig tid. Hej då.',
  declined: 'Inga problem. Tack, och ha en fin dag. Hej då.',
  stillThere: 'Är du kvar?',
  notUnderstood: 'Förlåt, jag uppfattade inte det.',
  yesOrNo: 'Svara gärna ja eller nej.',
};

export function surveyPhrases(language: SurveyLanguage): SurveyPhrases {
  return language === 'sv-SE' ? swedish : english;
}
